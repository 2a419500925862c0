// The fusion's defaults depend on the embedder. A semantic embedding model ranks by meaning, and equal weights with
// k 60 (the usual RRF setting) keep its top hit near the top of the fusion. A lexical embedder (the built-in
// sim-embedding hashes words and n-grams, with no weighting of rare words over common ones) ranks by the same
// evidence BM25 uses, only worse: there the full-text ranking leads and the vector ranking breaks its ties and fills
// its gaps. Which kind the embedder is comes from the embedding endpoint's /v1/models entry for the model: a sage
// engine says `engine`, a sage control plane names the engines behind a model in `sage_engines`. Anything else is
// taken for a semantic model, whose defaults are the ones used before the gateway knew about embedders at all.
import { z } from 'zod';
import { APIError, type Model } from '@sage/common';

export type EmbedderFamily = 'lexical' | 'semantic';

export interface EmbedderProfile {
  model: string;
  family: EmbedderFamily;
  /** Why the gateway took it for that family, for logs and the API. */
  reason: string;
}

export interface FusionSettings {
  vectorWeight: number;
  fulltextWeight: number;
  rrfK: number;
}

export const FUSION_DEFAULTS: Readonly<Record<EmbedderFamily, Readonly<FusionSettings>>> = {
  semantic: { vectorWeight: 1, fulltextWeight: 1, rrfK: 60 },
  // A place in the full-text ranking is worth twice one in the vector ranking, and k 10 keeps the lead of the first
  // few places: the vector ranking reorders chunks BM25 ranks close together, and rarely lifts one BM25 ranks low.
  lexical: { vectorWeight: 1, fulltextWeight: 2, rrfK: 10 },
};

/** Engines whose embeddings are lexical (no model of meaning behind them). */
const LEXICAL_ENGINES = new Set(['sim-embedding']);

const EngineFieldsSchema = z.looseObject({
  engine: z.string().optional(),
  sage_engines: z.array(z.string()).optional(),
});

/** The family of `model` from the entries of its endpoint's /v1/models (none: nothing is known). */
export function classifyEmbedder(model: string, entries: readonly Model[]): EmbedderProfile {
  const entry = entries.find((m) => m.id === model);
  if (!entry) return { model, family: 'semantic', reason: `${model} is not in its endpoint's /v1/models; taken for a semantic embedding model` };
  const fields = EngineFieldsSchema.safeParse(entry);
  const engines = fields.success ? [...(fields.data.engine ? [fields.data.engine] : []), ...(fields.data.sage_engines ?? [])] : [];
  const lexical = engines.find((e) => LEXICAL_ENGINES.has(e));
  if (lexical && engines.every((e) => LEXICAL_ENGINES.has(e))) {
    return { model, family: 'lexical', reason: `${model} is served by ${lexical} (its /v1/models entry says so): lexical feature hashing of words, no model of meaning` };
  }
  const named = engines.length > 0 ? `served by ${[...new Set(engines)].join(', ')}` : 'no engine named in its /v1/models entry';
  return { model, family: 'semantic', reason: `${model}: ${named}; taken for a semantic embedding model` };
}

/** Whether a failure to read the model list may go away (so the profile is worth asking for again). */
export function transientFailure(err: unknown): boolean {
  return !(err instanceof APIError && err.status !== undefined && err.status >= 400 && err.status < 500);
}

/** The profile used when the model list could not be read. */
export function unknownEmbedder(model: string, err: unknown): EmbedderProfile {
  return { model, family: 'semantic', reason: `${model}: its endpoint's /v1/models could not be read (${(err as Error).message}); taken for a semantic embedding model` };
}
