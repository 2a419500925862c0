// The pure part of mid-stream failover: what can be continued, the continuation request, and how a later leg's
// chunks are made to look like the first leg's.
import { UpstreamError, RequestCancelledError } from '../../src';
import { StreamProgress, continuationPayload, failoverReason, rewriteChunk } from '../../src/control-plane/manager';

const chatChunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-A',
  object: 'chat.completion.chunk',
  created: 100,
  model: 'm',
  system_fingerprint: 'fp-A',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: null }],
  ...extra,
});

describe('failoverReason', () => {
  it('moves streams cut by the connection, the idle timeout or an engine error event; never a cancellation or a 4xx', () => {
    expect(failoverReason(new UpstreamError('reset', { instanceId: 'a', beforeFirstByte: false }))).toBe('connection_lost');
    expect(failoverReason(new UpstreamError('idle', { instanceId: 'a', beforeFirstByte: false, timeout: true }))).toBe('idle_timeout');
    expect(failoverReason(new UpstreamError('oom', { instanceId: 'a', beforeFirstByte: false, upstreamBody: { error: { message: 'oom' } } }))).toBe('engine_error');
    expect(failoverReason(new UpstreamError('bad', { instanceId: 'a', beforeFirstByte: true, upstreamStatus: 400 }))).toBeUndefined();
    expect(failoverReason(new RequestCancelledError('r'))).toBeUndefined();
    expect(failoverReason(new Error('bug'))).toBeUndefined();
  });
});

describe('StreamProgress', () => {
  it('keeps the identity, the text and the token count of choice 0', () => {
    const p = new StreamProgress('chat', { messages: [] });
    p.observe(chatChunk({ role: 'assistant', content: '' }));
    p.observe(chatChunk({ content: 'Hello' }));
    p.observe(chatChunk({ content: ' world' }));
    expect(p.identity).toEqual({ id: 'chatcmpl-A', created: 100, model: 'm', system_fingerprint: 'fp-A' });
    expect(p.generated).toBe('Hello world');
    expect(p.tokens).toBe(2);
    expect(p.finished).toBe(false);
    expect(p.blocker()).toBeUndefined();
  });

  it('refuses n > 1 and tool-call streams', () => {
    expect(new StreamProgress('chat', { n: 2 }).blocker()).toBe('n > 1');
    const tools = new StreamProgress('chat', {});
    tools.observe(chatChunk({ tool_calls: [{ index: 0, function: { arguments: '{"a' } }] }));
    expect(tools.blocker()).toBe('tool calls');
    const other = new StreamProgress('completion', {});
    other.observe({ id: 'x', choices: [{ index: 1, text: 'b' }] });
    expect(other.blocker()).toBe('n > 1');
  });

  it('leaves an echoed prompt out of the generated text, and notices the final chunk', () => {
    const p = new StreamProgress('completion', { prompt: 'Once', echo: true });
    p.observe({ id: 'c', choices: [{ index: 0, text: 'Once upon', finish_reason: null }] });
    p.observe({ id: 'c', choices: [{ index: 0, text: ' a', finish_reason: null }] });
    expect(p.generated).toBe(' upon a');
    p.observe({ id: 'c', choices: [{ index: 0, text: '', finish_reason: 'length' }] });
    expect(p.finished).toBe(true);
  });
});

describe('continuationPayload', () => {
  const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, seed: 3, temperature: 0.7, stream: true, stream_options: { include_usage: true }, kv_transfer_params: { do_remote_prefill: true } };

  it('chat: the text so far as an open assistant message, vLLM flags, budget reduced, sampling kept', () => {
    expect(continuationPayload(chat, 'chat', 'Hello there', 2)).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Hello there' }],
      continue_final_message: true,
      add_generation_prompt: false,
      max_tokens: 98,
      seed: 3,
      temperature: 0.7,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chat.messages).toHaveLength(1); // the original is untouched
  });

  it('completions: the prompt followed by the text so far, no echo; a budget never drops below one token', () => {
    expect(continuationPayload({ model: 'm', prompt: 'Once', max_tokens: 5, echo: true }, 'completion', ' upon a time', 7)).toEqual({ model: 'm', prompt: 'Once upon a time', max_tokens: 1 });
  });

  it('nothing generated yet: the original request again (without the prefill hand-off)', () => {
    const { kv_transfer_params: _kv, ...rest } = chat;
    expect(continuationPayload(chat, 'chat', '', 0)).toEqual(rest);
  });
});

describe('rewriteChunk', () => {
  const identity = { id: 'chatcmpl-A', created: 100, model: 'm', system_fingerprint: 'fp-A' };
  const leg2 = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...chatChunk(delta, extra), id: 'chatcmpl-B', created: 200, system_fingerprint: 'fp-B' });

  it('gives a later leg the first leg identity', () => {
    expect(rewriteChunk(leg2({ content: ' more' }), 'chat', identity, { promptTokens: 0, completionTokens: 0 })).toMatchObject({ id: 'chatcmpl-A', created: 100, model: 'm', system_fingerprint: 'fp-A', choices: [{ index: 0, delta: { content: ' more' } }] });
  });

  it('drops the second role announcement and empty chunks, keeps the finish', () => {
    expect(rewriteChunk(leg2({ role: 'assistant', content: '' }), 'chat', identity, { promptTokens: 0, completionTokens: 0 })).toBeUndefined();
    const withText = rewriteChunk(leg2({ role: 'assistant', content: 'x' }), 'chat', identity, { promptTokens: 0, completionTokens: 0 });
    expect((withText?.choices as Array<{ delta: object }>)[0]?.delta).toEqual({ content: 'x' });
    const fin = rewriteChunk({ ...leg2({}), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }, 'chat', identity, { promptTokens: 0, completionTokens: 0 });
    expect(fin?.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'stop' }]);
  });

  it('adds the earlier legs to the usage chunk', () => {
    const usage = rewriteChunk({ ...leg2({}), choices: [], usage: { prompt_tokens: 30, completion_tokens: 40, total_tokens: 70 } }, 'chat', identity, { promptTokens: 10, completionTokens: 60 });
    expect(usage?.usage).toEqual({ prompt_tokens: 40, completion_tokens: 100, total_tokens: 140 });
    expect(usage?.choices).toEqual([]);
  });
});
