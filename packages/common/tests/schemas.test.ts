import {
  ChatCompletionRequestSchema,
  ChatCompletionChunkSchema,
  ChatCompletionResponseSchema,
  CompletionRequestSchema,
  EmbeddingRequestSchema,
  EmbeddingResponseSchema,
  ModelListSchema,
  OpenAIErrorBodySchema,
  openAIError,
  zodIssueToOpenAIError,
  NoEndpointError,
  APIError,
  LLMError,
} from '../src';
import { SDK_CHAT_MESSAGES } from './helpers/sdk-messages';

function errorOf(schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, value: unknown) {
  const r = schema.safeParse(value);
  expect(r.success).toBe(false);
  return zodIssueToOpenAIError(r.error as never);
}

describe('wire schemas', () => {
  it('accepts a chat request as the SDK sends it and keeps extension fields', () => {
    const body = {
      model: 'm',
      messages: SDK_CHAT_MESSAGES,
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
      stop: ['\n'],
      seed: 7,
      kv_transfer_params: { do_remote_decode: true },
      sage: { priority: 'high', slo_deadline_ms: 500 },
    };
    const parsed = ChatCompletionRequestSchema.parse(body);
    expect(parsed.kv_transfer_params).toEqual({ do_remote_decode: true });
    expect(parsed.sage).toEqual({ priority: 'high', slo_deadline_ms: 500 });
  });

  it('rejects a negative max_tokens and names the field', () => {
    const e = errorOf(ChatCompletionRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: -1 });
    expect(e.status).toBe(400);
    expect(OpenAIErrorBodySchema.parse(e.body).error.param).toBe('max_tokens');
    expect(e.body.error.type).toBe('invalid_request_error');
    expect(e.body.error.message).toMatch(/max_tokens/);
  });

  it('names nested fields with a dotted path and says when a field is missing', () => {
    const e = errorOf(ChatCompletionRequestSchema, { model: 'm', messages: [{ role: 'user' }] });
    expect(e.body.error.param).toBe('messages.0.content');
    const e2 = errorOf(ChatCompletionRequestSchema, { messages: [{ role: 'user', content: 'x' }] });
    expect(e2.body.error.param).toBe('model');
    expect(e2.body.error.message).toMatch(/'model' is required/);
    const e3 = errorOf(ChatCompletionRequestSchema, { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 });
    expect(e3.body.error.param).toBe('temperature');
    const e4 = errorOf(ChatCompletionRequestSchema, { model: 'm', messages: [{ role: 'wizard', content: 'x' }] });
    expect(e4.body.error.param).toBe('messages.0.role');
  });

  it('validates completion prompts and embedding inputs', () => {
    expect(CompletionRequestSchema.safeParse({ model: 'm', prompt: [[1, 2], [3]] }).success).toBe(true);
    expect(CompletionRequestSchema.safeParse({ model: 'm', prompt: 5 }).success).toBe(false);
    expect(EmbeddingRequestSchema.safeParse({ model: 'e', input: ['a', 'b'], encoding_format: 'base64', dimensions: 8 }).success).toBe(true);
    const e = errorOf(EmbeddingRequestSchema, { model: 'e', input: [] });
    expect(e.body.error.param).toBe('input');
    const e2 = errorOf(EmbeddingRequestSchema, { model: 'e', input: 'x', dimensions: 0 });
    expect(e2.body.error.param).toBe('dimensions');
  });

  it('parses responses, chunks and model lists with extension fields', () => {
    ChatCompletionResponseSchema.parse({
      id: 'c', object: 'chat.completion', created: 1, model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    ChatCompletionChunkSchema.parse({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'h' }, finish_reason: null }] });
    EmbeddingResponseSchema.parse({ object: 'list', model: 'e', data: [{ object: 'embedding', index: 0, embedding: [0.1] }], usage: { prompt_tokens: 1, total_tokens: 1 } });
    const list = ModelListSchema.parse({ object: 'list', data: [{ id: 'x', object: 'model', owned_by: 'sage', sage_kind: 'embedding', instances: 2 }] });
    expect(list.data[0]?.sage_kind).toBe('embedding');
    expect(list.data[0]?.instances).toBe(2);
  });

  it('builds OpenAI error bodies and typed errors', () => {
    expect(openAIError(404, 'no such model', { code: 'model_not_found', param: 'model' })).toEqual({
      status: 404,
      body: { error: { message: 'no such model', type: 'not_found_error', param: 'model', code: 'model_not_found' } },
    });
    const err = new NoEndpointError('llm', [{ url: 'http://localhost:1/v1', purpose: 'llm', outcome: 'connection refused' }]);
    expect(err).toBeInstanceOf(LLMError);
    expect(err.message).toContain('http://localhost:1/v1');
    expect(err.name).toBe('NoEndpointError');
    const api = new APIError('x', { status: 429, retryable: true, code: 'rate_limited' });
    expect([api.status, api.retryable, api.code]).toEqual([429, true, 'rate_limited']);
  });
});
