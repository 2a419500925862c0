// Sentences by the Unicode rules (Intl.Segmenter, ICU): "e.g. the", "3.5 mm" and "U.S. law" stay whole,
// and Chinese or Japanese full stops end sentences without a following space.

const SEGMENTER = new Intl.Segmenter(undefined, { granularity: 'sentence' });

/**
 * The sentences of a paragraph, trimmed. A line break inside a paragraph is a soft wrap, not the end of a
 * sentence (the Unicode rules would break there), so it is read as a space; the sentences keep it.
 */
export function splitSentences(text: string): string[] {
  const flat = text.replace(/\n/g, ' ');
  const out: string[] = [];
  for (const s of SEGMENTER.segment(flat)) {
    const sentence = text.slice(s.index, s.index + s.segment.length).trim();
    if (sentence) out.push(sentence);
  }
  return out;
}
