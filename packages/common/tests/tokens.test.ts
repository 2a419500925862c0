import { countTokens, encodeTokens, decodeTokens, countChatTokens } from '../src';

describe('token counting', () => {
  it('uses a real BPE tokenizer, not a length heuristic', () => {
    expect(countTokens('hello world')).toBe(2);
    expect(countTokens('')).toBe(0);
    const text = 'The quick brown fox jumps over the lazy dog.';
    expect(decodeTokens(encodeTokens(text))).toBe(text);
    expect(countTokens('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).not.toBe(8);
  });

  it('counts chat prompts with per-message framing', () => {
    const one = countChatTokens([{ role: 'user', content: 'hello world' }]);
    const two = countChatTokens([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello world' },
    ]);
    expect(one).toBe(3 + 3 + countTokens('user') + 2);
    expect(two).toBeGreaterThan(one);
  });
});
