// HTML to Markdown for indexing (web pages, and Word files through their HTML): headings stay headings so
// the chunker keeps each chunk's heading path; links, images and emphasis become their text, because a URL
// or a markup character in a chunk only adds noise to its embedding and its full-text terms.
import TurndownService from 'turndown';

function createTurndown(): TurndownService {
  const td = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-', hr: '---' });
  td.remove(['script', 'style', 'noscript', 'template', 'iframe', 'object', 'embed', 'svg', 'canvas', 'button', 'select', 'head']);
  td.addRule('link', { filter: 'a', replacement: (content) => content });
  td.addRule('image', { filter: 'img', replacement: () => '' });
  td.addRule('emphasis', { filter: ['em', 'i', 'strong', 'b', 'u', 'mark', 'span'], replacement: (content) => content });
  // A table becomes one line per row, cells separated by " | ": a row of facts stays together in one chunk.
  td.addRule('tableCell', { filter: ['th', 'td'], replacement: (content) => ` ${content.replace(/\s+/g, ' ').trim()} |` });
  td.addRule('tableRow', { filter: 'tr', replacement: (content) => `\n|${content}` });
  td.addRule('table', { filter: 'table', replacement: (content) => `\n\n${content.replace(/\n{2,}/g, '\n').trim()}\n\n` });
  // Only what the chunker would misread is escaped: a text line that looks like a heading or a code fence.
  td.escape = (text: string) => text.replace(/^(\s{0,3})(#{1,6}\s|```|~~~)/gm, '$1\\$2');
  return td;
}

let shared: TurndownService | undefined;

/** Markdown of an HTML fragment or page, with runs of blank lines collapsed. */
export function htmlToMarkdown(html: string): string {
  shared ??= createTurndown();
  return shared
    .turndown(html)
    .replace(/\u00a0/g, ' ')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
