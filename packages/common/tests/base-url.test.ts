// The one base-URL rule (what an openai SDK user expects): a given path is kept, a bare origin gets /v1.
import { normalizeBaseUrl, serverRootUrl } from '../src';

describe('normalizeBaseUrl', () => {
  it.each([
    ['http://localhost:8001', 'http://localhost:8001/v1'],
    ['http://localhost:8001/', 'http://localhost:8001/v1'],
    ['http://127.0.0.1:8000/v1', 'http://127.0.0.1:8000/v1'],
    ['http://127.0.0.1:8000/v1///', 'http://127.0.0.1:8000/v1'],
    ['https://dashscope.aliyuncs.com/compatible-mode/v1', 'https://dashscope.aliyuncs.com/compatible-mode/v1'],
    ['https://api.groq.com/openai/v1/', 'https://api.groq.com/openai/v1'],
    ['https://generativelanguage.googleapis.com/v1beta/openai/', 'https://generativelanguage.googleapis.com/v1beta/openai'],
    ['http://HOST:8001', 'http://host:8001/v1'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeBaseUrl(input)).toBe(expected);
  });

  it('rejects what is not a URL', () => {
    expect(() => normalizeBaseUrl('not a url')).toThrow('Invalid URL');
  });
});

describe('serverRootUrl', () => {
  it.each([
    ['http://127.0.0.1:8000/v1', 'http://127.0.0.1:8000'],
    ['http://127.0.0.1:8000/v1/', 'http://127.0.0.1:8000'],
    ['http://127.0.0.1:8000/', 'http://127.0.0.1:8000'],
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000'],
    ['https://h/compatible-mode/v1', 'https://h/compatible-mode'],
    ['https://h/v1beta/openai', 'https://h/v1beta/openai'],
  ])('%s → %s', (input, expected) => {
    expect(serverRootUrl(input)).toBe(expected);
  });

  it('is the inverse of normalizeBaseUrl for a bare origin', () => {
    expect(serverRootUrl(normalizeBaseUrl('http://127.0.0.1:8000'))).toBe('http://127.0.0.1:8000');
  });
});
