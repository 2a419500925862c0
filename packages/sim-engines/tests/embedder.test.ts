// The lexical embedder and the batch cost model, as pure functions.
import { batchCostMs } from '../src/embedding/batch-cost';
import { cosineSimilarity, embedText, embeddingFromBase64, embeddingToBase64 } from '../src/embedding/lexical-embedder';
import { DEFAULT_EMBEDDING_DIMENSIONS } from '../src';

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('lexical embedder', () => {
  it('gives identical unit vectors for identical texts, 384 dimensions by default', () => {
    const a = embedText('The quick brown fox jumps over the lazy dog');
    const b = embedText('The quick brown fox jumps over the lazy dog');
    expect(a.length).toBe(DEFAULT_EMBEDDING_DIMENSIONS);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(norm(a)).toBeCloseTo(1, 5);
  });

  it('puts paraphrases closer than unrelated texts', () => {
    const cat = embedText('the cat sat on the mat');
    const para = embedText('a cat is sitting on a mat');
    const other = embedText('quarterly earnings rose');
    expect(cosineSimilarity(cat, para)).toBeGreaterThan(cosineSimilarity(cat, other) + 0.2);
  });

  it('is case- and width-insensitive and sees inflections through character n-grams', () => {
    expect(cosineSimilarity(embedText('Hello World'), embedText('hello world'))).toBeCloseTo(1, 6);
    expect(cosineSimilarity(embedText('running'), embedText('runner'))).toBeGreaterThan(cosineSimilarity(embedText('running'), embedText('bicycle')));
  });

  it('embeds CJK text by character', () => {
    const a = embedText('机器学习是人工智能的一个分支');
    const b = embedText('人工智能与机器学习');
    const c = embedText('今天的天气很好');
    expect(norm(a)).toBeCloseTo(1, 5);
    expect(cosineSimilarity(a, b)).toBeGreaterThan(cosineSimilarity(a, c));
  });

  it('honours dimensions and still normalises', () => {
    const v = embedText('sixty four dimensions please', 64);
    expect(v.length).toBe(64);
    expect(norm(v)).toBeCloseTo(1, 5);
    expect(() => embedText('x', 0)).toThrow(RangeError);
  });

  it('still embeds punctuation-only text to a unit vector', () => {
    expect(norm(embedText('?!'))).toBeCloseTo(1, 5);
  });

  it('round-trips base64 (little-endian float32) exactly', () => {
    const v = embedText('base64 round trip');
    expect(Array.from(embeddingFromBase64(embeddingToBase64(v)))).toEqual(Array.from(v));
    expect(Buffer.from(embeddingToBase64([1]), 'base64')).toEqual(Buffer.from([0x00, 0x00, 0x80, 0x3f]));
  });
});

describe('batch cost model', () => {
  it('makes one batch of 32 far cheaper than 32 batches of one', () => {
    const p = { batchOverheadMs: 8, perTokenMs: 0.05 };
    expect(batchCostMs(32 * 10, p) * 5).toBeLessThan(32 * batchCostMs(10, p));
  });
});
