// Extractive answering: the sentences of the context that share the most (rarer) words with the question,
// in their original order. No model, but a faithful answer from the retrieved text, as a RAG test needs.

const STOPWORDS = new Set(
  'a an the and or but if of to in on at by for with from as is are was were be been being it its this that these those what which who whom whose when where why how do does did done can could should would will shall may might must i you he she we they me him her us them my your his our their not no yes so than then there here about into over under again further once all any both each few more most other some such only own same too very just also please tell explain describe give'.split(' '),
);

/** Lower-cased content words; CJK text contributes one term per character. */
export function contentTerms(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().normalize('NFKC').matchAll(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    if (!STOPWORDS.has(w)) out.push(w);
  }
  return out;
}

/** Sentences of a text, split at sentence punctuation (Latin and CJK) and line breaks. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?。！？])\s+|(?<=[。！？])|\n+/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The best-matching sentences of `context` for `question` (up to `maxSentences`), or '' when no sentence
 * shares a content word with the question. Terms are weighted by inverse sentence frequency so that a
 * rare shared word counts more than a common one.
 */
export function extractiveAnswer(context: string, question: string, maxSentences = 3): string {
  const sentences = splitSentences(context);
  const q = new Set(contentTerms(question));
  if (sentences.length === 0 || q.size === 0) return '';
  const termSets = sentences.map((s) => new Set(contentTerms(s)));
  const df = new Map<string, number>();
  for (const set of termSets) for (const t of set) if (q.has(t)) df.set(t, (df.get(t) ?? 0) + 1);
  const scored = termSets.map((set, i) => {
    let score = 0;
    for (const t of set) if (q.has(t)) score += Math.log(1 + sentences.length / (df.get(t) as number));
    return { i, score };
  });
  const best = Math.max(...scored.map((s) => s.score));
  if (best <= 0) return '';
  const picked = scored
    .filter((s) => s.score >= best * 0.7)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, maxSentences)
    .sort((a, b) => a.i - b.i);
  return picked.map((s) => sentences[s.i]).join(' ');
}
