// The chat body's fast path agrees with ChatCompletionRequestSchema: whatever it takes, the schema takes too and
// returns the same fields and values; on random bodies near the edges of every checked field it never takes one the
// schema refuses, and it takes the everyday ones.
import { ChatCompletionRequestSchema } from '@sage/common';
import { wellFormedChatBody } from '../../src/server/chat-body';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

// Values around each field's limits, right and wrong; `undefined` leaves the field out.
const VALUES: Record<string, unknown[]> = {
  model: ['m', '', 3, null, undefined],
  max_tokens: [0, 16, -1, 1.5, null, '16', undefined],
  max_completion_tokens: [0, 7, -2, 2.5, null, undefined],
  temperature: [0, 0.7, 2, 2.01, -0.1, null, '1', undefined],
  top_p: [0, 1, 1.01, null, undefined],
  n: [1, 2, 0, 1.5, null, undefined],
  stop: ['x', ['a', 'b'], ['a', 'b', 'c', 'd', 'e'], [1], null, 3, undefined],
  seed: [0, -5, 1.5, null, undefined],
  stream: [true, false, null, 'yes', undefined],
  stream_options: [{ include_usage: true }, {}, { include_usage: 'no' }, [], null, undefined],
  presence_penalty: [0, 2, -2, 2.5, null, undefined],
  frequency_penalty: [1, -2.5, null, undefined],
  user: ['u', null, 1, undefined],
  logit_bias: [{ '1': 2 }, undefined],
  sage: [{ priority: 'high' }, undefined],
  tools: [[{ type: 'function' }], undefined],
  vendor_knob: [1, { a: [1] }, undefined],
};
const MESSAGES: unknown[] = [
  { role: 'user', content: 'hi' },
  { role: 'system', content: 'be brief', name: 'sys' },
  { role: 'assistant', content: 'ok', extra: { a: 1 } },
  { role: 'developer', content: '' },
  { role: 'tool', content: 'x', tool_call_id: 't1' },
  { role: 'tool', content: 'x' },
  { role: 'assistant', content: null },
  { role: 'user' },
  { role: 'user', content: [{ type: 'text', text: 'a' }] },
  { role: 'user', content: 'x', name: 7 },
  { role: 'robot', content: 'x' },
  { role: 'user', content: 'x', tool_calls: [] },
  'not a message',
  null,
];

function body(r: () => number): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  for (const [k, vs] of Object.entries(VALUES)) {
    // Most fields absent most of the time, so that everyday bodies come up often.
    const v = r() < 0.7 ? undefined : pick(r, vs);
    if (v !== undefined) b[k] = v;
  }
  if (b.model === undefined && r() < 0.9) b.model = 'm';
  if (r() < 0.95) b.messages = r() < 0.05 ? [] : Array.from({ length: 1 + Math.floor(r() * 3) }, () => (r() < 0.7 ? MESSAGES[0] : pick(r, MESSAGES)));
  return b;
}

describe('wellFormedChatBody', () => {
  it('takes only what the schema takes, as the schema returns it, and takes the everyday bodies', () => {
    const r = rng(7);
    let taken = 0;
    let refusedBySchema = 0;
    for (let k = 0; k < 20_000; k++) {
      const b = body(r);
      const fast = wellFormedChatBody(b);
      const slow = ChatCompletionRequestSchema.safeParse(b);
      if (!slow.success) refusedBySchema++;
      if (fast !== undefined) {
        taken++;
        expect(slow.success).toBe(true);
        expect(fast).toEqual(slow.data);
      }
    }
    expect(taken).toBeGreaterThan(1_000);
    expect(refusedBySchema).toBeGreaterThan(2_000);
  });

  it('takes an OpenAI SDK chat body and leaves the rest to the schema', () => {
    const sdk = { model: 'm', messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }], max_tokens: 16, temperature: 0.2, stream: true, stream_options: { include_usage: true } };
    expect(wellFormedChatBody(sdk)).toBe(sdk);
    expect(wellFormedChatBody({ ...sdk, tools: [{ type: 'function' }] })).toBeUndefined();
    expect(wellFormedChatBody({ ...sdk, messages: [{ role: 'tool', content: 'x', tool_call_id: 't' }] })).toBeUndefined();
    expect(wellFormedChatBody([sdk])).toBeUndefined();
  });
});
