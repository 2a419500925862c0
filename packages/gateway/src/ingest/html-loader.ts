// Web pages: the main content without the site around it (navigation, banners, sidebars, footers, scripts),
// as Markdown with its headings, and the page title as the document's title. A page that marks its content
// (<main>, role="main", a single <article>) is taken at its word; otherwise Mozilla's Readability finds it.
import { readFile } from 'node:fs/promises';
import { Readability } from '@mozilla/readability';
import { parseHTML, type DomDocument, type DomElement } from 'linkedom';
import { toLoadError, type DocumentLoader, type LoadedDocument } from './document';
import { htmlToMarkdown } from './html-to-markdown';
import { decodeText } from './text-decoding';

/** Elements that are never content, wherever they are. */
const NOISE = [
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'embed',
  'svg',
  'canvas',
  'form',
  'nav',
  'aside',
  'dialog',
  '[role="navigation"]',
  '[role="banner"]',
  '[role="contentinfo"]',
  '[role="complementary"]',
  '[role="search"]',
  '[hidden]',
  '[aria-hidden="true"]',
].join(', ');

/** The site's own header and footer (an article's <header> holding its title is content). */
const CHROME = 'body > header, body > footer, body > div > header, body > div > footer';

function removeAll(root: DomElement, selector: string): void {
  for (const el of [...root.querySelectorAll(selector)]) el.remove();
}

/** The encoding a page declares in its first bytes (<meta charset> or http-equiv Content-Type). */
function declaredCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head)?.[1];
}

function clean(text: string | null | undefined): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

function mainContentHtml(document: DomDocument): string {
  const marked = document.querySelector('main, [role="main"]') ?? (document.querySelectorAll('article').length === 1 ? document.querySelector('article') : null);
  if (marked && clean(marked.textContent)) return marked.innerHTML;
  // Readability works on (and changes) a copy; it returns null when it finds no content at all.
  const article = new Readability(document.cloneNode(true), { charThreshold: 100 }).parse();
  if (article?.content && clean(article.textContent)) return article.content;
  return document.body?.innerHTML ?? '';
}

export function htmlDocument(html: string): LoadedDocument {
  const { document } = parseHTML(html);
  const title = clean(document.title) || clean(document.querySelector('h1')?.textContent);
  removeAll(document.documentElement, NOISE);
  removeAll(document.documentElement, CHROME);
  const text = htmlToMarkdown(mainContentHtml(document));
  return { text, format: 'markdown', ...(title && { metadata: { title } }) };
}

export class HtmlLoader implements DocumentLoader {
  readonly extensions = ['.html', '.htm', '.xhtml'] as const;

  async load(filePath: string): Promise<LoadedDocument> {
    const bytes = await readFile(filePath).catch((err: unknown) => {
      throw toLoadError(err);
    });
    return htmlDocument(decodeText(bytes, declaredCharset(bytes)));
  }
}
