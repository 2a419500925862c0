// Builds the exact token sequence a simulated request will emit: an extractive answer when the prompt
// carries context, seeded filler text otherwise; cut at max_tokens or at a stop string. The engine loop
// only decides *when* each token comes out; *what* comes out is fixed here, so streamed and non-streamed
// answers for the same request are identical and usage is exact.
import { decodeTokens, encodeTokens, fnv1a32, mulberry32 } from '@sage/common';
import { extractiveAnswer } from './extractive';
import type { PromptParts } from './prompt-parts';

export interface AnswerRequest {
  parts: PromptParts;
  /** The whole prompt text, hashed for the seed when none is given. */
  promptText: string;
  seed?: number | null;
  temperature?: number | null;
  /** Which of n choices (greedy decoding, temperature 0, makes every choice the same). */
  choiceIndex: number;
  /** Upper bound on generated tokens (max_tokens, or what is left of the context window). */
  maxTokens: number;
  /** Whether the client set max_tokens (then filler text fills it; otherwise it stops at a natural length). */
  maxTokensGiven: boolean;
  stop?: readonly string[];
}

export interface Answer {
  text: string;
  /** Text delta of each generated token; joined they equal `text`. */
  pieces: string[];
  finishReason: 'stop' | 'length';
  /** Generated tokens (pieces.length), exact. */
  completionTokens: number;
  extractive: boolean;
}

const WORDS = (
  'system model token engine batch cache prefix request queue latency signal river garden light stone paper window morning ' +
  'network value market story music table water forest city bridge mountain field answer question reason pattern measure ' +
  'simple quiet bright careful steady gentle rapid early late clear open narrow broad common distant native useful final ' +
  'build carry follow gather hold keep move reach share turn watch write read learn grow bring find keep show plan run ' +
  'the a of and to in for with on by from as that which while where each every many several this its their'
).split(' ');

function fillerText(rng: () => number, minTokens: number, temperature: number): string {
  // Lower temperature draws from a narrower head of the vocabulary, as sharper sampling would.
  const span = Math.max(8, Math.round(WORDS.length * Math.min(1, 0.35 + temperature / 2)));
  const sentences: string[] = [];
  let approxTokens = 0;
  while (approxTokens < minTokens + 8) {
    const n = 6 + Math.floor(rng() * 10);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rng() * span)] as string);
    const s = words.join(' ');
    sentences.push(s.charAt(0).toUpperCase() + s.slice(1) + '.');
    approxTokens += n + 1;
  }
  return sentences.join(' ');
}

/** Per-token text deltas that never split a UTF-8 character (a partial character waits for its rest). */
function tokenPieces(ids: readonly number[]): string[] {
  const pieces: string[] = [];
  let pending: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    pending.push(ids[i] as number);
    const s = decodeTokens(pending);
    if (s.endsWith('\uFFFD') && i < ids.length - 1 && pending.length < 4) {
      pieces.push('');
      continue;
    }
    pieces.push(s);
    pending = [];
  }
  return pieces;
}

export function buildAnswer(req: AnswerRequest): Answer {
  const maxTokens = Math.max(1, req.maxTokens);
  const extracted = req.parts.context ? extractiveAnswer(req.parts.context, req.parts.question) : '';
  let ids: number[];
  let natural: boolean; // the answer ends on its own before max_tokens
  if (extracted) {
    ids = encodeTokens(extracted);
    natural = ids.length <= maxTokens;
  } else {
    const temperature = req.temperature ?? 1;
    const baseSeed = req.seed ?? fnv1a32(req.promptText);
    const seed = (baseSeed + (temperature === 0 ? 0 : req.choiceIndex * 0x9e3779b1)) >>> 0;
    const rng = mulberry32(seed);
    // Without max_tokens a reply has a natural length of 16..127 tokens, drawn from the same seed.
    const target = req.maxTokensGiven ? maxTokens : Math.min(maxTokens, 16 + Math.floor(rng() * 112));
    ids = encodeTokens(fillerText(rng, target, temperature)).slice(0, target);
    natural = !req.maxTokensGiven && target < maxTokens;
  }
  let finishReason: 'stop' | 'length' = natural ? 'stop' : 'length';
  ids = ids.slice(0, maxTokens);
  if (ids.length === 0) ids = encodeTokens('.');
  let pieces = tokenPieces(ids);

  const stops = (req.stop ?? []).filter((s) => s.length > 0);
  if (stops.length > 0) {
    const full = pieces.join('');
    let cut = -1;
    let cutEnd = -1;
    for (const s of stops) {
      const at = full.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        cutEnd = at + s.length;
      }
    }
    if (cut >= 0) {
      // Generation runs until the token that completes the stop string; that string is not returned.
      const kept: string[] = [];
      let pos = 0;
      for (const p of pieces) {
        kept.push(pos >= cut ? '' : p.slice(0, Math.max(0, cut - pos)));
        pos += p.length;
        if (pos >= cutEnd) break;
      }
      pieces = kept;
      finishReason = 'stop';
    }
  }
  return { text: pieces.join(''), pieces, finishReason, completionTokens: pieces.length, extractive: extracted !== '' };
}
