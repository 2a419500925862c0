// Request checks of sim-llm that go beyond the wire schema: the served model, the disaggregation role,
// the token budget against the context window (as vLLM words it), n, stop.
import { SageError } from '@sage/common';
import type { KvTransferParams } from './schemas';

export type SimLlmRole = 'general' | 'prefilling' | 'decoding';
export const SIM_LLM_ROLES: readonly SimLlmRole[] = ['general', 'prefilling', 'decoding'];

const MAX_N = 64;

export function checkModel(served: string, requested: string): void {
  if (requested !== served) {
    throw new SageError(`The model \`${requested}\` does not exist. This engine serves \`${served}\`.`, { status: 404, type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
  }
}

/**
 * The checks every sim-llm route makes first: the model this engine serves, and what kv_transfer_params ask of its
 * role. Returns the disaggregation mode.
 */
export function checkEngineRequest(engine: { model: string; role: SimLlmRole }, body: { model: string; kv_transfer_params?: KvTransferParams | null }): { prefillOnly: boolean; skipPrefill: boolean } {
  checkModel(engine.model, body.model);
  return kvMode(body.kv_transfer_params, engine.role);
}

/** What kv_transfer_params ask of this engine, refused when the engine's role cannot do it. */
export function kvMode(kv: KvTransferParams | null | undefined, role: SimLlmRole): { prefillOnly: boolean; skipPrefill: boolean } {
  const prefillOnly = kv?.do_remote_decode === true;
  const skipPrefill = kv?.do_remote_prefill === true;
  if (prefillOnly && skipPrefill) throw new SageError('kv_transfer_params cannot ask for both do_remote_decode and do_remote_prefill', { status: 400, param: 'kv_transfer_params', code: 'invalid_value' });
  if (prefillOnly && role === 'decoding') throw new SageError('this engine plays DECODING and does not serve prefill-only requests (kv_transfer_params.do_remote_decode)', { status: 400, param: 'kv_transfer_params', code: 'invalid_value' });
  if (skipPrefill && role === 'prefilling') throw new SageError('this engine plays PREFILLING and cannot decode from a remote prefill (kv_transfer_params.do_remote_prefill)', { status: 400, param: 'kv_transfer_params', code: 'invalid_value' });
  return { prefillOnly, skipPrefill };
}

/** max_tokens against the context window; without one, the rest of the window (or `defaultTokens`). */
export function tokenBudget(
  maxModelLen: number,
  promptTokens: number,
  requested: number | null | undefined,
  defaultTokens: number | undefined,
  param: string,
): { maxTokens: number; maxTokensGiven: boolean } {
  const room = maxModelLen - promptTokens;
  if (requested !== null && requested !== undefined && requested < 1) throw new SageError(`'${param}' must be at least 1`, { status: 400, param, code: 'invalid_value' });
  const given = requested ?? defaultTokens;
  if (room < 1 || (given !== undefined && given > room)) {
    throw new SageError(`This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + (given ?? 1)} tokens (${promptTokens} in the messages, ${given ?? 1} in the completion). Please reduce the length of the messages or completion.`, { status: 400, param, code: 'context_length_exceeded' });
  }
  return { maxTokens: given ?? room, maxTokensGiven: given !== undefined };
}

export function checkN(n: number | null | undefined): number {
  const v = n ?? 1;
  if (v > MAX_N) throw new SageError(`'n' may be at most ${MAX_N}`, { status: 400, param: 'n', code: 'invalid_value' });
  return v;
}

export function normaliseStop(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}
