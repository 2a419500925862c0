// Prefill/decode separation (F-207) with vLLM's disaggregated-serving protocol: the prefill request
// carries kv_transfer_params {do_remote_decode: true} and max_tokens 1 (non-streaming); the engine answers
// with kv_transfer_params naming where its KV cache lives, and those are passed on to the decode request.

export interface PdOptions {
  enabled: boolean;
  /** Prompts shorter than this (tokens) are not worth a KV transfer (default 256). */
  minInputTokens: number;
  /** Skip separation when prompt tokens / expected output tokens is below this (default 1). */
  minInputOutputRatio: number;
}

export const DEFAULT_PD_OPTIONS: PdOptions = { enabled: false, minInputTokens: 256, minInputOutputRatio: 1 };

/** Whether a request with these sizes is worth separating. */
export function shouldSeparate(opts: PdOptions, promptTokens: number, maxTokens: number | undefined): boolean {
  if (!opts.enabled) return false;
  if (promptTokens < opts.minInputTokens) return false;
  const expectedOut = Math.max(1, maxTokens ?? 256);
  return promptTokens / expectedOut >= opts.minInputOutputRatio;
}

/** The prefill request: same prompt, one token, no streaming, asking the engine to keep KV for a remote decode. */
export function buildPrefillPayload(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...payload,
    stream: false,
    max_tokens: 1,
    kv_transfer_params: {
      do_remote_decode: true,
      do_remote_prefill: false,
      remote_engine_id: null,
      remote_block_ids: null,
      remote_host: null,
      remote_port: null,
    },
  };
  if ('max_completion_tokens' in out) out.max_completion_tokens = 1;
  delete out.stream_options;
  return out;
}

/** kv_transfer_params the prefill engine returned (top level of the response), if any. */
export function extractKvTransferParams(prefillResponse: Record<string, unknown>): Record<string, unknown> | undefined {
  const kv = prefillResponse.kv_transfer_params;
  return kv && typeof kv === 'object' && !Array.isArray(kv) ? (kv as Record<string, unknown>) : undefined;
}

/** The decode request: the original request plus the prefill engine's kv_transfer_params. */
export function buildDecodePayload(payload: Record<string, unknown>, kv: Record<string, unknown> | undefined): Record<string, unknown> {
  return kv ? { ...payload, kv_transfer_params: kv } : { ...payload };
}
