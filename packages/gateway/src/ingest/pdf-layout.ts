// From the positioned text runs PDF.js reads off each page to Markdown per page: runs on one baseline form a
// line, lines close together form a paragraph (wrapped lines are joined, hyphenation undone), and a short
// line set clearly larger than the body text is a heading, its level by size across the whole document.

/** One text run: [text, x, y (baseline, from the bottom), width, font size, ends a line (1/0)]. */
export type PdfTextRun = [string, number, number, number, number, number];

interface Line {
  text: string;
  y: number;
  size: number;
}

const round = (n: number) => Math.round(n * 2) / 2;

function pageLines(runs: readonly PdfTextRun[]): Line[] {
  const lines: Line[] = [];
  let cur: (Line & { endX: number }) | null = null;
  let broke = true;
  for (const [str, x, y, width, size, eol] of runs) {
    if (str.trim() !== '' || (cur && str !== '')) {
      const sameLine = cur && !broke && Math.abs(cur.y - y) <= 0.5 * Math.max(size, cur.size);
      if (cur && sameLine) {
        // A gap wider than a sliver of the font size is a space the PDF did not write out.
        const gap = x - cur.endX;
        if (gap > 0.15 * size && !cur.text.endsWith(' ') && !str.startsWith(' ')) cur.text += ' ';
        cur.text += str;
        cur.size = Math.max(cur.size, str.trim() ? size : 0);
        cur.endX = x + width;
      } else {
        if (cur) lines.push(cur);
        cur = { text: str, y, size: str.trim() ? size : 0, endX: x + width };
      }
      broke = false;
    }
    if (eol) broke = true;
  }
  if (cur) lines.push(cur);
  return lines.map((l) => ({ text: l.text.replace(/\s+/g, ' ').trim(), y: l.y, size: l.size })).filter((l) => l.text !== '');
}

/** The font size most of the text is set in (by characters). */
function bodySize(pages: readonly Line[][]): number {
  const chars = new Map<number, number>();
  for (const line of pages.flat()) chars.set(round(line.size), (chars.get(round(line.size)) ?? 0) + line.text.length);
  let best = 0;
  let most = -1;
  for (const [size, n] of chars) if (n > most) [best, most] = [size, n];
  return best;
}

const isHeading = (line: Line, body: number) =>
  body > 0 && line.size >= body * 1.15 && line.text.length <= 120 && line.text.split(' ').length <= 14 && !/[.,;:]$/.test(line.text);

/** A paragraph's lines as one line of text: "connec-" + "tion" is "connection". */
function joinLines(lines: readonly string[]): string {
  let out = '';
  for (const line of lines) {
    if (!out) out = line;
    else if (/\p{L}-$/u.test(out) && /^\p{Ll}/u.test(line)) out = out.slice(0, -1) + line;
    else out += ` ${line}`;
  }
  return out;
}

/** Text that the Markdown chunker would misread as a heading or a code fence gets escaped. */
const escapeLine = (text: string) => text.replace(/^(#{1,6}\s|```|~~~)/, '\\$1');

/** Markdown of each page, in order. */
export function pdfPagesToMarkdown(pages: readonly (readonly PdfTextRun[])[]): string[] {
  const lines = pages.map(pageLines);
  const body = bodySize(lines);
  const headingSizes = [...new Set(lines.flat().filter((l) => isHeading(l, body)).map((l) => round(l.size)))].sort((a, b) => b - a);
  const level = (size: number) => Math.min(6, headingSizes.indexOf(round(size)) + 1);

  return lines.map((page) => {
    const blocks: string[] = [];
    let para: string[] = [];
    let prev: Line | null = null;
    const flush = () => {
      if (para.length > 0) blocks.push(escapeLine(joinLines(para)));
      para = [];
    };
    for (const line of page) {
      if (isHeading(line, body)) {
        flush();
        blocks.push(`${'#'.repeat(level(line.size))} ${line.text}`);
        prev = null;
        continue;
      }
      // A gap of more than about one and a half lines (or a move up: a new column) starts a paragraph.
      const gap = prev ? prev.y - line.y : 0;
      if (prev && (gap > 1.6 * Math.max(line.size, prev.size) || gap < -0.5 * line.size)) flush();
      para.push(line.text);
      prev = line;
    }
    flush();
    return blocks.join('\n\n');
  });
}
