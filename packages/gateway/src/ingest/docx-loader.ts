// Word documents (.docx): mammoth turns the paragraphs into HTML by their styles (Heading 1-6 become
// <h1>-<h6>), then the shared HTML-to-Markdown step keeps the headings for the chunker. A paragraph in the
// Title style is the document's title, not a heading of its text.
import { readFile } from 'node:fs/promises';
import mammoth from 'mammoth';
import { parseHTML } from 'linkedom';
import { LoadError, toLoadError, type DocumentLoader, type LoadedDocument } from './document';
import { htmlToMarkdown } from './html-to-markdown';

const TITLE_CLASS = 'sage-docx-title';
const STYLE_MAP = [`p[style-name='Title'] => h1.${TITLE_CLASS}:fresh`, "p[style-name='Subtitle'] => p:fresh"];

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
// An OLE compound file: what Word writes for an encrypted .docx, and the old binary .doc format.
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

export async function docxDocument(bytes: Buffer): Promise<LoadedDocument> {
  if (startsWith(bytes, OLE_MAGIC)) {
    throw new LoadError('encrypted_document', 'the file is a password-protected Word document (or an old binary .doc), not a plain .docx');
  }
  if (!startsWith(bytes, ZIP_MAGIC)) throw new LoadError('corrupt_document', 'not a .docx file (a .docx is a zip archive)');
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: bytes }, { styleMap: STYLE_MAP })).value;
  } catch (err) {
    throw new LoadError('corrupt_document', `not a readable .docx file: ${(err as Error).message.split('\n')[0]}`);
  }
  const { document } = parseHTML(`<!doctype html><html><body>${html}</body></html>`);
  const titles = [...document.querySelectorAll(`.${TITLE_CLASS}`)];
  const title = titles.map((t) => (t.textContent ?? '').replace(/\s+/g, ' ').trim()).find((t) => t.length > 0);
  for (const t of titles) t.remove();
  const text = htmlToMarkdown(document.body?.innerHTML ?? '');
  return { text, format: 'markdown', ...(title && { metadata: { title } }) };
}

export class DocxLoader implements DocumentLoader {
  readonly extensions = ['.docx'] as const;

  async load(filePath: string): Promise<LoadedDocument> {
    const bytes = await readFile(filePath).catch((err: unknown) => {
      throw toLoadError(err);
    });
    return docxDocument(bytes);
  }
}
