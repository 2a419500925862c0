// What the simulated model says: extractive from context, seeded filler otherwise, exact token counts.
import { countTokens, encodeTokens } from '@sage/common';
import { buildAnswer, type AnswerRequest } from '../src/text/answer';
import { chatPromptParts, splitMarkedContext } from '../src/text/prompt-parts';
import { extractiveAnswer } from '../src/text/extractive';

const plain = (over: Partial<AnswerRequest> = {}): AnswerRequest => ({
  parts: { context: '', question: 'tell me something' },
  promptText: 'tell me something',
  choiceIndex: 0,
  maxTokens: 50,
  maxTokensGiven: true,
  ...over,
});

describe('extractive answers', () => {
  const context = 'Paris is the capital of France. Berlin is the capital of Germany. The Rhine flows through Germany and the Netherlands. Bananas are yellow.';

  it('picks the sentence that best matches the question', () => {
    expect(extractiveAnswer(context, 'What is the capital of Germany?')).toBe('Berlin is the capital of Germany.');
    expect(extractiveAnswer(context, 'Which colour are bananas?')).toBe('Bananas are yellow.');
    expect(extractiveAnswer(context, 'Who won the football match?')).toBe('');
  });

  it('finds the context in a system message, a <context> block or a Context:/Question: prompt', () => {
    expect(chatPromptParts([{ role: 'system', content: context }, { role: 'user', content: 'capital of France?' }])).toEqual({ context, question: 'capital of France?' });
    expect(splitMarkedContext(`<context>${context}</context>\nQuestion: where does the Rhine flow?`)).toEqual({ context, question: 'where does the Rhine flow?' });
    expect(splitMarkedContext(`Context: ${context}\nQuestion: capital of France?`)).toEqual({ context, question: 'capital of France?' });
  });

  it('answers with the extract, finish_reason stop, exact usage', () => {
    const a = buildAnswer(plain({ parts: { context, question: 'capital of Germany?' } }));
    expect(a.extractive).toBe(true);
    expect(a.text).toBe('Berlin is the capital of Germany.');
    expect(a.finishReason).toBe('stop');
    expect(a.completionTokens).toBe(countTokens(a.text));
    expect(a.pieces.join('')).toBe(a.text);
  });

  it('cuts an extract at max_tokens with finish_reason length', () => {
    const a = buildAnswer(plain({ parts: { context, question: 'capital of Germany?' }, maxTokens: 3 }));
    expect(a.completionTokens).toBe(3);
    expect(a.finishReason).toBe('length');
    expect(a.text).toBe('Berlin is the');
  });

  it('streams CJK text without splitting characters', () => {
    const ctx = '北京是中国的首都。上海是一个大城市。';
    const a = buildAnswer(plain({ parts: { context: ctx, question: '中国的首都是哪里？' } }));
    expect(a.text).toBe('北京是中国的首都。');
    expect(a.pieces.join('')).toBe(a.text);
    expect(a.pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
  });
});

describe('seeded text', () => {
  it('fills max_tokens exactly and is reproducible by seed', () => {
    const a = buildAnswer(plain({ seed: 7 }));
    const b = buildAnswer(plain({ seed: 7 }));
    const c = buildAnswer(plain({ seed: 8 }));
    expect(a.completionTokens).toBe(50);
    expect(a.finishReason).toBe('length');
    expect(encodeTokens(a.text).length).toBeGreaterThan(40);
    expect(b.text).toBe(a.text);
    expect(c.text).not.toBe(a.text);
  });

  it('seeds from the prompt when no seed is given', () => {
    expect(buildAnswer(plain()).text).toBe(buildAnswer(plain()).text);
    expect(buildAnswer(plain({ promptText: 'other' })).text).not.toBe(buildAnswer(plain()).text);
  });

  it('differs across choices unless decoding is greedy', () => {
    expect(buildAnswer(plain({ choiceIndex: 1 })).text).not.toBe(buildAnswer(plain()).text);
    expect(buildAnswer(plain({ choiceIndex: 1, temperature: 0 })).text).toBe(buildAnswer(plain({ temperature: 0 })).text);
  });

  it('stops at a natural length without max_tokens', () => {
    const a = buildAnswer(plain({ maxTokens: 4000, maxTokensGiven: false }));
    expect(a.finishReason).toBe('stop');
    expect(a.completionTokens).toBeGreaterThanOrEqual(16);
    expect(a.completionTokens).toBeLessThan(128);
  });

  it('honours stop strings: text ends before the stop, generation stops at it', () => {
    const full = buildAnswer(plain({ seed: 3, maxTokens: 60 }));
    const cut = buildAnswer(plain({ seed: 3, maxTokens: 60, stop: ['.'] }));
    const at = full.text.indexOf('.');
    expect(at).toBeGreaterThan(0);
    expect(cut.text).toBe(full.text.slice(0, at));
    expect(cut.finishReason).toBe('stop');
    expect(cut.completionTokens).toBeLessThan(full.completionTokens);
    expect(cut.pieces.join('')).toBe(cut.text);
  });
});
