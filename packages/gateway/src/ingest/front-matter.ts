// YAML front matter (a `---` block opening a Markdown file) is about the document, not in it: its title
// and tags become the document's metadata and its text is not indexed.
import { parse } from 'yaml';
import type { DocumentMetadata } from './document';

const FRONT_MATTER_RE = /^---[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;

function tagList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[,;]/) : [];
  return [...new Set(items.filter((t) => typeof t === 'string' || typeof t === 'number').map((t) => String(t).trim()).filter((t) => t.length > 0))];
}

/**
 * Splits front matter off a Markdown text. A `---` block that is not a YAML mapping (a thematic break, a
 * setext underline) is left in the text; so is one that does not parse.
 */
export function splitFrontMatter(text: string): { body: string; metadata: DocumentMetadata } {
  const m = FRONT_MATTER_RE.exec(text);
  if (!m) return { body: text, metadata: {} };
  let data: unknown;
  try {
    data = parse(m[1] as string);
  } catch {
    return { body: text, metadata: {} };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { body: text, metadata: {} };
  const fields = data as Record<string, unknown>;
  const metadata: DocumentMetadata = {};
  const title = fields.title;
  if ((typeof title === 'string' || typeof title === 'number') && String(title).trim()) metadata.title = String(title).trim();
  const tags = tagList(fields.tags ?? fields.keywords);
  if (tags.length > 0) metadata.tags = tags;
  return { body: text.slice(m[0].length), metadata };
}
