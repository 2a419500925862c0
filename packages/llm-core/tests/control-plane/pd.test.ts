// PD separation payloads (F-207): vLLM's kv_transfer_params protocol and the skip threshold.
import { buildDecodePayload, buildPrefillPayload, extractKvTransferParams, shouldSeparate } from '../../src/control-plane/pd';

describe('prefill/decode separation', () => {
  it('builds the prefill request: one token, no stream, do_remote_decode', () => {
    const original = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 200, max_completion_tokens: 200, stream: true, stream_options: { include_usage: true } };
    const p = buildPrefillPayload(original);
    expect(p).toMatchObject({ model: 'm', max_tokens: 1, max_completion_tokens: 1, stream: false, kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false } });
    expect(p).not.toHaveProperty('stream_options');
    expect(original.max_tokens).toBe(200); // not mutated
  });

  it('passes the returned kv_transfer_params on to the decode request', () => {
    const kv = extractKvTransferParams({ choices: [], kv_transfer_params: { do_remote_prefill: true, remote_block_ids: [1, 2], remote_host: 'h', remote_port: 1 } });
    expect(kv).toEqual({ do_remote_prefill: true, remote_block_ids: [1, 2], remote_host: 'h', remote_port: 1 });
    expect(buildDecodePayload({ model: 'm', max_tokens: 50, stream: true }, kv)).toEqual({ model: 'm', max_tokens: 50, stream: true, kv_transfer_params: kv });
    expect(extractKvTransferParams({ kv_transfer_params: null })).toBeUndefined();
  });

  it('skips short prompts and low input/output ratios', () => {
    const opts = { enabled: true, minInputTokens: 256, minInputOutputRatio: 2 };
    expect(shouldSeparate(opts, 1000, 100)).toBe(true);
    expect(shouldSeparate(opts, 100, 10)).toBe(false); // too short
    expect(shouldSeparate(opts, 1000, 800)).toBe(false); // decode-heavy: ratio 1.25
    expect(shouldSeparate({ ...opts, enabled: false }, 1000, 100)).toBe(false);
  });
});
