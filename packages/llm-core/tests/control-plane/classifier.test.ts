import { InstanceType, RequestClassifier, RequestType, type ExecutionInstance } from '../../src';
import { inst, req } from './policies-fixtures';

const c = new RequestClassifier();

describe('RequestClassifier.classify', () => {
  it('uses an explicit type first', () => {
    expect(c.classify({ type: RequestType.LLM_GENERATE, embeddingTexts: ['x'] })).toBe(RequestType.LLM_GENERATE);
  });
  it('is embedding when texts are present, generate for a bare prompt, chat otherwise', () => {
    expect(c.classify({ embeddingTexts: ['a'] })).toBe(RequestType.EMBEDDING);
    expect(c.classify({ embeddingTexts: [] })).toBe(RequestType.EMBEDDING);
    expect(c.classify({ prompt: 'once upon' })).toBe(RequestType.LLM_GENERATE);
    expect(c.classify({ messages: [{ role: 'user', content: 'hi' }] })).toBe(RequestType.LLM_CHAT);
    expect(c.classify({})).toBe(RequestType.LLM_CHAT);
  });
});

describe('RequestClassifier.compatibleInstances', () => {
  const all: ExecutionInstance[] = [
    inst('llm-emb', { type: InstanceType.LLM_EMBEDDING }),
    inst('emb', { type: InstanceType.EMBEDDING }),
    // An embedding-only server that wrongly advertises chat (the old "embedding server on an LLM port" bug).
    inst('emb-liar', { type: InstanceType.EMBEDDING, supportedRequestTypes: [RequestType.EMBEDDING, RequestType.LLM_CHAT] }),
    inst('decode', { type: InstanceType.DECODING }),
    inst('prefill', { type: InstanceType.PREFILLING }),
    inst('hybrid', { type: InstanceType.HYBRID }),
    inst('general', { type: InstanceType.GENERAL }),
  ];
  const ids = (xs: ExecutionInstance[]) => xs.map((x) => x.id);

  it('ranks embedding instances before LLM_EMBEDDING for embeddings, and never offers LLM-only ones', () => {
    expect(ids(c.compatibleInstances(RequestType.EMBEDDING, all))).toEqual(['emb', 'emb-liar', 'llm-emb']);
  });

  it('ranks GENERAL/HYBRID, then PREFILLING/DECODING, then LLM_EMBEDDING for chat; never an EMBEDDING instance', () => {
    const got = ids(c.compatibleInstances(RequestType.LLM_CHAT, all));
    expect(got).toEqual(['hybrid', 'general', 'decode', 'prefill', 'llm-emb']);
    for (const id of got) expect(all.find((i) => i.id === id)?.type).not.toBe(InstanceType.EMBEDDING);
    expect(ids(c.compatibleInstances(RequestType.LLM_CHAT, [all[1], all[2]]))).toEqual([]);
  });

  it('respects supportedRequestTypes and served models', () => {
    const noGenerate = inst('chat-only', { supportedRequestTypes: [RequestType.LLM_CHAT] });
    const other = inst('other-model', { models: ['qwen'] });
    const any = inst('any-model', { models: [] });
    expect(ids(c.compatibleInstances(RequestType.LLM_GENERATE, [noGenerate, other]))).toEqual(['other-model']);
    expect(ids(c.compatibleInstances(RequestType.LLM_CHAT, [noGenerate, other, any], 'qwen'))).toEqual(['other-model', 'any-model']);
    expect(ids(c.compatibleFor(req('r', { model: 'm' }), [noGenerate, other, any]))).toEqual(['chat-only', 'any-model']);
  });
});

describe('RequestClassifier.validate', () => {
  const codes = (r: Parameters<RequestClassifier['validate']>[0], known?: string[]) => c.validate(r, known).map((i) => i.code);

  it('accepts a well-formed request', () => {
    expect(c.validate(req('ok'), ['m'])).toEqual([]);
    expect(c.validate(req('e', { type: RequestType.EMBEDDING }))).toEqual([]);
  });

  it('returns a code and the offending parameter for each problem', () => {
    expect(codes({ type: RequestType.EMBEDDING, model: 'm' })).toEqual(['missing_embedding_texts']);
    expect(codes({ type: RequestType.EMBEDDING, model: 'm', embeddingTexts: [] })).toEqual(['empty_embedding_texts']);
    expect(c.validate({ model: 'm', embeddingTexts: ['a', ''] })).toEqual([
      expect.objectContaining({ code: 'empty_embedding_texts', param: 'input[1]' }),
    ]);
    expect(codes({ ...req('r'), maxTokens: 0 })).toEqual(['invalid_max_tokens']);
    expect(codes({ ...req('r'), maxTokens: 1.5 })).toEqual(['invalid_max_tokens']);
    expect(codes({ ...req('r'), sampling: { temperature: 2.5 } })).toEqual(['invalid_temperature']);
    expect(codes({ ...req('r'), sampling: { topP: 0 } })).toEqual(['invalid_top_p']);
    expect(codes({ ...req('r'), sampling: { topP: 1.2, temperature: -1 } })).toEqual(['invalid_temperature', 'invalid_top_p']);
    expect(codes(req('r', { model: 'gpt-x' }), ['m', 'n'])).toEqual(['unknown_model']);
    expect(codes({ ...req('r'), model: '' })).toEqual(['missing_model']);
    expect(codes({ ...req('r'), messages: [] })).toEqual(['missing_messages']);
    expect(codes({ type: RequestType.LLM_GENERATE, model: 'm' })).toEqual(['missing_prompt']);
    expect(codes({ ...req('r'), sloDeadlineMs: -5 })).toEqual(['invalid_deadline']);
    expect(c.validate(req('r', { model: 'gpt-x' }), ['m'])[0]).toMatchObject({ param: 'model', message: expect.stringContaining('gpt-x') });
  });
});
