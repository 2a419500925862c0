// The text that stands for a chunk in both indexes: what is embedded for the vector search and what the
// full-text index reads. A lone paragraph lacks the context its document's title and headings give it
// ("Pricing" under "Harbour ferry"), so they go in front of it, once each.

export interface IndexableChunk {
  title?: string;
  headingPath: readonly string[];
  text: string;
}

export function indexText(chunk: IndexableChunk): string {
  const title = chunk.title?.trim();
  const path = title && chunk.headingPath[0]?.trim().toLowerCase() !== title.toLowerCase() ? [title, ...chunk.headingPath] : [...chunk.headingPath];
  return path.length > 0 ? `${path.join(' > ')}\n\n${chunk.text}` : chunk.text;
}
