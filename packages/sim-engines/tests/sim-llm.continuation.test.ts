// sim-llm continues a generation as vLLM does (chat: `continue_final_message`; completions: the prompt followed by
// the text so far): the first part plus the continuation equals one uninterrupted answer, token for token.
import OpenAI from 'openai';
import { countTokens } from '@sage/common';
import { expectOpenAIError, post, startEngine, type EngineProcess } from './spawn-engine';

const MODEL = 'sim-cont';
let engine: EngineProcess;
let client: OpenAI;

// vLLM's chat-template fields are not in the SDK's types.
type Continue = { continue_final_message?: boolean; add_generation_prompt?: boolean };

beforeAll(async () => {
  engine = await startEngine('sim-llm', ['--model', MODEL, '--time-scale', '0.01']);
  client = new OpenAI({ baseURL: `${engine.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await engine?.stop();
});

/** Splits a text after its first `n` tokens' worth of characters, as a stream cut after n content chunks would. */
async function firstStreamedPart(body: OpenAI.ChatCompletionCreateParamsNonStreaming, n: number): Promise<string> {
  const stream = await client.chat.completions.create({ ...body, stream: true });
  let text = '';
  let pieces = 0;
  for await (const chunk of stream) {
    const piece = chunk.choices[0]?.delta.content ?? '';
    if (!piece) continue;
    text += piece;
    if (++pieces === n) break;
  }
  return text;
}

describe('chat continuation (continue_final_message)', () => {
  it.each([
    ['filler with a seed and max_tokens', { max_tokens: 40, seed: 7 }],
    ['filler without a seed (seeded by the prompt), natural length', {}],
  ])('first part + continuation = the uninterrupted answer: %s', async (_name, extra) => {
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: 'Tell me a story about rivers.' }], ...extra };
    const whole = await client.chat.completions.create(body);
    const full = whole.choices[0]!.message.content!;
    const part = await firstStreamedPart(body, 9);
    expect(full.startsWith(part)).toBe(true);
    const used = countTokens(part);
    const rest = await client.chat.completions.create({
      ...body,
      ...(body.max_tokens ? { max_tokens: body.max_tokens - used } : {}),
      messages: [...body.messages, { role: 'assistant', content: part }],
      continue_final_message: true,
      add_generation_prompt: false,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming & Continue);
    expect(part + rest.choices[0]!.message.content).toBe(full);
    expect(rest.choices[0]!.finish_reason).toBe(whole.choices[0]!.finish_reason);
    expect(rest.usage!.completion_tokens + used).toBe(whole.usage!.completion_tokens);
  });

  it('continues an extractive answer', async () => {
    const body = {
      model: MODEL,
      messages: [
        { role: 'system' as const, content: 'The Eiffel Tower is in Paris and was finished in 1889 for the world fair. The Colosseum is in Rome. Bananas are rich in potassium.' },
        { role: 'user' as const, content: 'When was the Eiffel Tower in Paris finished?' },
      ],
    };
    const full = (await client.chat.completions.create(body)).choices[0]!.message.content!;
    const part = await firstStreamedPart(body, 4);
    const rest = await client.chat.completions.create({ ...body, messages: [...body.messages, { role: 'assistant', content: part }], continue_final_message: true, add_generation_prompt: false } as OpenAI.ChatCompletionCreateParamsNonStreaming & Continue);
    expect(part + rest.choices[0]!.message.content).toBe(full);
  });

  it('refuses continue_final_message with the generation prompt on, or without a final assistant message, as vLLM does', async () => {
    const user = { role: 'user', content: 'hi' };
    const both = await post(`${engine.url}/v1/chat/completions`, { model: MODEL, messages: [user, { role: 'assistant', content: 'Hel' }], continue_final_message: true });
    expectOpenAIError(both.body, 400, both.status);
    expect(JSON.stringify(both.body)).toMatch(/add_generation_prompt/);
    const noAssistant = await post(`${engine.url}/v1/chat/completions`, { model: MODEL, messages: [user], continue_final_message: true, add_generation_prompt: false });
    expectOpenAIError(noAssistant.body, 400, noAssistant.status);
  });
});

describe('completions continuation (prompt followed by the text so far)', () => {
  it('first part + continuation = the uninterrupted answer for the same seed', async () => {
    const body = { model: MODEL, prompt: 'Once upon a time', max_tokens: 30, seed: 11 };
    const whole = await client.completions.create(body);
    const full = whole.choices[0]!.text;
    const stream = await client.completions.create({ ...body, stream: true });
    let part = '';
    let n = 0;
    for await (const chunk of stream) {
      part += chunk.choices[0]?.text ?? '';
      if (++n === 6) break;
    }
    const used = countTokens(part);
    const rest = await client.completions.create({ ...body, prompt: body.prompt + part, max_tokens: body.max_tokens - used });
    expect(part + rest.choices[0]!.text).toBe(full);
    expect(rest.usage!.completion_tokens + used).toBe(body.max_tokens);
  });

  it('an ordinary prompt still gets its ordinary answer', async () => {
    const a = await client.completions.create({ model: MODEL, prompt: 'The weather today', max_tokens: 12, seed: 3 });
    expect(a.usage!.completion_tokens).toBe(12);
    expect(a.choices[0]!.finish_reason).toBe('length');
  });
});
