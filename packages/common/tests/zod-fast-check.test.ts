// The compiled check of a zod schema against zod itself: whatever it accepts, zod accepts and returns unchanged
// (so the validator may hand the value on uncopied), and the well-formed bodies the SDK sends take the fast path.
// Bodies come from seeded mutations of real requests, so a disagreement reproduces.
import { z } from 'zod';
import { ChatCompletionRequestSchema, CompletionRequestSchema, EmbeddingRequestSchema, mulberry32 } from '../src';
import { compileFastCheck } from '../src/http/edge/zod-fast-check';
import { SDK_CHAT_MESSAGES } from './helpers/sdk-messages';

const chat = {
  model: 'm',
  messages: SDK_CHAT_MESSAGES,
  max_tokens: 16,
  temperature: 0.7,
  top_p: 1,
  n: 1,
  stop: ['\n'],
  seed: 3,
  stream: false,
  stream_options: { include_usage: true },
  logit_bias: { '42': -1 },
  user: 'u',
  sage: { priority: 'high', slo_deadline_ms: 500 },
  tools: [{ type: 'function', function: { name: 'f' } }],
  tool_choice: 'auto',
  response_format: { type: 'json_object' },
  kv_transfer_params: { x: 1 },
};
const completion = { model: 'm', prompt: [[1, 2, 3], [4]], max_tokens: 4, echo: false, logprobs: 2, best_of: 1, suffix: null };
const embedding = { model: 'e', input: ['a', 'b'], encoding_format: 'float', dimensions: 8 };

const ODD_VALUES: unknown[] = [null, undefined, true, false, 0, -1, 1, 1.5, 2.5, 5, 21, -0, 1e300, Number.MAX_SAFE_INTEGER + 2, '', 'x', 'high', 'user', 'text', 'function', [], [1], ['a'], [[1]], {}, { type: 'text' }, { type: 'text', text: 1 }, { role: 'user' }, { role: 'tool', content: 'x' }];

/** A copy of `value` with one random change somewhere inside it (a value replaced, a key removed or added). */
function mutate(value: unknown, rnd: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  if (Array.isArray(value)) {
    const copy = [...value];
    const r = rnd();
    if (copy.length === 0 || r < 0.15) copy.push(pick(ODD_VALUES));
    else if (r < 0.3) copy.splice(Math.floor(rnd() * copy.length), 1);
    else {
      const i = Math.floor(rnd() * copy.length);
      copy[i] = depth < 4 && rnd() < 0.7 ? mutate(copy[i], rnd, depth + 1) : pick(ODD_VALUES);
    }
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const r = rnd();
    if (keys.length === 0 || r < 0.1) copy[pick(['extra', 'content', 'role', 'text', 'type', 'priority'])] = pick(ODD_VALUES);
    else if (r < 0.25) delete copy[pick(keys)];
    else {
      const k = pick(keys);
      copy[k] = depth < 4 && rnd() < 0.6 ? mutate(copy[k], rnd, depth + 1) : pick(ODD_VALUES);
    }
    return copy;
  }
  return pick(ODD_VALUES);
}

function agreeWithZod(schema: z.ZodType, base: unknown, seed: number, count: number): { fast: number; total: number } {
  const check = compileFastCheck(schema);
  expect(check).toBeDefined();
  const rnd = mulberry32(seed);
  let fast = 0;
  for (let i = 0; i < count; i++) {
    let body = base;
    const changes = 1 + Math.floor(rnd() * 3);
    for (let c = 0; c < changes; c++) body = mutate(body, rnd);
    // JSON bodies are what the check meets: no undefined, no -0.
    body = JSON.parse(JSON.stringify(body));
    if (!check!(body)) continue;
    fast++;
    const r = schema.safeParse(body);
    if (!r.success) throw new Error(`the fast check accepted what zod refuses: ${JSON.stringify(body)}\n${r.error.message}`);
    expect(r.data).toStrictEqual(body);
  }
  return { fast, total: count };
}

describe('compiled zod checks', () => {
  it('accept the well-formed requests the SDK sends', () => {
    for (const [schema, body] of [
      [ChatCompletionRequestSchema, chat],
      [ChatCompletionRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'hello' }] }],
      [CompletionRequestSchema, completion],
      [CompletionRequestSchema, { model: 'm', prompt: 'once upon a time' }],
      [EmbeddingRequestSchema, embedding],
      [EmbeddingRequestSchema, { model: 'e', input: 'a' }],
    ] as const) {
      expect(schema.safeParse(body).success).toBe(true);
      expect(compileFastCheck(schema)!(body)).toBe(true);
    }
  });

  it('accept nothing zod refuses, and only what zod returns unchanged (seeded mutations)', () => {
    const runs = [agreeWithZod(ChatCompletionRequestSchema, chat, 1, 4000), agreeWithZod(CompletionRequestSchema, completion, 2, 2000), agreeWithZod(EmbeddingRequestSchema, embedding, 3, 2000)];
    // The mutations reach both sides: some still pass the check, many do not.
    for (const r of runs) {
      expect(r.fast).toBeGreaterThan(r.total * 0.05);
      expect(r.fast).toBeLessThan(r.total * 0.95);
    }
  });

  it('leave to zod what would not come out unchanged: stripped, refused or absent-required keys, present undefined', () => {
    const plain = compileFastCheck(z.object({ a: z.string() }))!;
    expect(plain({ a: 'x' })).toBe(true);
    expect(plain({ a: 'x', b: 1 })).toBe(false); // zod strips b
    expect(compileFastCheck(z.strictObject({ a: z.string() }))!({ a: 'x', b: 1 })).toBe(false);
    const opt = compileFastCheck(z.looseObject({ a: z.string().optional(), b: z.number() }))!;
    expect(opt({ b: 1 })).toBe(true);
    expect(opt({ a: undefined, b: 1 })).toBe(false);
    expect(opt({ a: 'x' })).toBe(false);
    expect(opt({ b: Number.NaN })).toBe(false);
    expect(compileFastCheck(z.string().trim())).toBeUndefined();
    // zod reads fields through the prototype chain: only plain objects are judged by the check.
    expect(opt(Object.assign(Object.create({ a: 'x' }) as object, { b: 1 }))).toBe(false);
    expect(z.looseObject({ a: z.string().optional(), b: z.number() }).safeParse(Object.assign(Object.create({ a: 1 }) as object, { b: 1 })).success).toBe(false);
  });

  it('are not compiled for schemas that change their input', () => {
    expect(compileFastCheck(z.object({ a: z.string().transform((s) => s.length) }))).toBeUndefined();
    expect(compileFastCheck(z.object({ a: z.number().default(1) }))).toBeUndefined();
    expect(compileFastCheck(z.object({ a: z.coerce.number() }))).toBeUndefined();
    expect(compileFastCheck(z.string().pipe(z.string()))).toBeUndefined();
  });

  it('run refinements as zod does', () => {
    const even = compileFastCheck(z.number().refine((n) => n % 2 === 0))!;
    expect(even(2)).toBe(true);
    expect(even(3)).toBe(false);
    const pair = compileFastCheck(
      z.looseObject({ a: z.number(), b: z.number() }).superRefine((v, ctx) => {
        if (v.a > v.b) ctx.addIssue({ code: 'custom', message: 'a > b' });
      }),
    )!;
    expect(pair({ a: 1, b: 2 })).toBe(true);
    expect(pair({ a: 3, b: 2 })).toBe(false);
  });
});
