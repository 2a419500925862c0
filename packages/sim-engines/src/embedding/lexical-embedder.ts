// Real lexical embeddings, computed without a model: signed feature hashing (the "hashing trick") of word
// unigrams, word bigrams and character 3-5-grams, with CJK text split by character, log-TF weighting and
// L2 normalisation. Texts sharing words and word pieces get high cosine similarity; unrelated texts get
// near zero. Deterministic and pure: the same text always gives the same vector.

export const DEFAULT_EMBEDDING_DIMENSIONS = 384;

const CJK_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const TOKEN_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}]+/gu;

// Function words carry little meaning: they count, but a quarter as much as content words.
const STOPWORDS = new Set(
  'a an the and or but of to in on at by for with from as is are was were be been being it its this that these those i you he she we they not no do does did has have had will would can could'.split(' '),
);

const WEIGHT = { unigram: 1, bigram: 0.6, charGram: 0.25, stopword: 0.25 } as const;

/** Word tokens of a text (lower-cased, NFKC); each CJK character is a token of its own. */
export function lexicalTokens(text: string): string[] {
  return [...text.normalize('NFKC').toLowerCase().matchAll(TOKEN_RE)].map((m) => m[0]);
}

/** Weighted features of a text before hashing: feature string -> summed weight of its occurrences (TF). */
export function lexicalFeatures(text: string): Map<string, { weight: number; tf: number }> {
  const feats = new Map<string, { weight: number; tf: number }>();
  const add = (key: string, weight: number) => {
    const f = feats.get(key);
    if (f) f.tf++;
    else feats.set(key, { weight, tf: 1 });
  };
  const tokens = lexicalTokens(text);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    add(`w:${t}`, STOPWORDS.has(t) ? WEIGHT.stopword : WEIGHT.unigram);
    if (i > 0) add(`b:${tokens[i - 1]} ${t}`, WEIGHT.bigram);
    if (!CJK_RE.test(t) && t.length >= 2) {
      // Character n-grams of the word with boundary marks catch inflections ("sit"/"sitting").
      const w = `<${t}>`;
      for (let n = 3; n <= 5; n++) for (let j = 0; j + n <= w.length; j++) add(`c:${w.slice(j, j + n)}`, WEIGHT.charGram);
    }
  }
  if (feats.size === 0 && text.trim().length > 0) add(`r:${text.trim()}`, 1); // punctuation-only text still embeds
  return feats;
}

/** FNV-1a 32-bit over the UTF-16 code units, with a seed to derive independent hashes. */
function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32) so that the low bits used for the bucket are well mixed.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Unit-length embedding of `text` with `dimensions` components (all zeros only for an empty text). */
export function embedText(text: string, dimensions = DEFAULT_EMBEDDING_DIMENSIONS): Float32Array {
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive integer (got ${dimensions})`);
  const v = new Float64Array(dimensions);
  for (const [key, f] of lexicalFeatures(text)) {
    const bucket = fnv1a(key, 0) % dimensions;
    const sign = fnv1a(key, 0x5bd1e995) & 1 ? 1 : -1; // signed hashing: collisions cancel instead of piling up
    v[bucket] = (v[bucket] as number) + sign * f.weight * (1 + Math.log(f.tf));
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  const out = new Float32Array(dimensions);
  if (norm > 0) for (let i = 0; i < dimensions; i++) out[i] = (v[i] as number) / norm;
  return out;
}

/** Cosine similarity of two vectors of equal length. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError('vectors differ in length');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** OpenAI's base64 encoding of an embedding: the bytes of little-endian float32 values. */
export function embeddingToBase64(v: ArrayLike<number>): string {
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i] as number, i * 4);
  return buf.toString('base64');
}

/** Inverse of {@link embeddingToBase64}. */
export function embeddingFromBase64(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
