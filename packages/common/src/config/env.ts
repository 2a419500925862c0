// Configuration from the environment (F-103), parsed and validated in one place.
// Empty strings count as unset (shells often export `VAR=`); a malformed value names its variable.
import { z } from 'zod';
import { LLMError } from '../types/errors';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const optionalUrl = (name: string) =>
  optionalString.pipe(
    z
      .string()
      .refine((v) => /^https?:\/\/[^/\s]+/i.test(v) && URL.canParse(v), {
        message: `${name} must be an http(s) URL such as http://localhost:8001/v1`,
      })
      .optional(),
  );

const optionalPositiveInt = (name: string) =>
  optionalString.pipe(
    z
      .string()
      .regex(/^\d+$/, `${name} must be a positive integer (milliseconds)`)
      .transform(Number)
      .optional(),
  );

const SageEnvSchema = z.object({
  SAGE_CHAT_MODEL: optionalString,
  SAGE_CHAT_BASE_URL: optionalUrl('SAGE_CHAT_BASE_URL'),
  SAGE_CHAT_API_KEY: optionalString,
  SAGE_EMBEDDING_MODEL: optionalString,
  SAGE_EMBEDDING_BASE_URL: optionalUrl('SAGE_EMBEDDING_BASE_URL'),
  SAGE_EMBEDDING_API_KEY: optionalString,
  SAGE_UNIFIED_BASE_URL: optionalUrl('SAGE_UNIFIED_BASE_URL'),
  SAGE_UNIFIED_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl('OPENAI_BASE_URL'),
  OPENAI_API_KEY: optionalString,
  SAGE_DETECTION_TTL_MS: optionalPositiveInt('SAGE_DETECTION_TTL_MS'),
});

export interface SageEnv {
  chatModel?: string;
  chatBaseUrl?: string;
  chatApiKey?: string;
  embeddingModel?: string;
  embeddingBaseUrl?: string;
  embeddingApiKey?: string;
  unifiedBaseUrl?: string;
  unifiedApiKey?: string;
  openaiBaseUrl?: string;
  openaiApiKey?: string;
  detectionTtlMs?: number;
}

/** Thrown for an environment variable with a bad value; the message names every offending variable. */
export class ConfigError extends LLMError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid sage configuration in the environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { status: 500, code: 'invalid_configuration' });
  }
}

/** The sage settings in `env`, validated. Throws {@link ConfigError} naming each bad variable. */
export function loadSageEnv(env: NodeJS.ProcessEnv = process.env): SageEnv {
  const parsed = SageEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? 'environment');
        return i.message.includes(name) ? i.message : `${name}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const out: SageEnv = {
    chatModel: e.SAGE_CHAT_MODEL,
    chatBaseUrl: e.SAGE_CHAT_BASE_URL,
    chatApiKey: e.SAGE_CHAT_API_KEY,
    embeddingModel: e.SAGE_EMBEDDING_MODEL,
    embeddingBaseUrl: e.SAGE_EMBEDDING_BASE_URL,
    embeddingApiKey: e.SAGE_EMBEDDING_API_KEY,
    unifiedBaseUrl: e.SAGE_UNIFIED_BASE_URL,
    unifiedApiKey: e.SAGE_UNIFIED_API_KEY,
    openaiBaseUrl: e.OPENAI_BASE_URL,
    openaiApiKey: e.OPENAI_API_KEY,
    detectionTtlMs: e.SAGE_DETECTION_TTL_MS,
  };
  // Drop unset keys so the object is a stable cache key and prints cleanly.
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as SageEnv;
}
