// Turning a file into text, by extension. Markdown, plain text, PDF, HTML and Word (.docx) are built in;
// more formats plug in through `DocumentLoader` without touching the chunker or the store.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { toLoadError, type DocumentFormat, type DocumentLoader, type LoadedDocument } from './document';
import { DocxLoader } from './docx-loader';
import { splitFrontMatter } from './front-matter';
import { HtmlLoader } from './html-loader';
import { PdfLoader, type PdfLoaderOptions } from './pdf-loader';
import { decodeText } from './text-decoding';

export { LoadError, type DocumentFormat, type DocumentLoader, type DocumentMetadata, type LoadedDocument, type LoadErrorCode } from './document';

class TextFileLoader implements DocumentLoader {
  constructor(
    readonly extensions: readonly string[],
    private readonly format: DocumentFormat,
  ) {}

  async load(filePath: string): Promise<LoadedDocument> {
    const bytes = await readFile(filePath).catch((err: unknown) => {
      throw toLoadError(err);
    });
    const text = decodeText(bytes);
    if (this.format !== 'markdown') return { text, format: this.format };
    const { body, metadata } = splitFrontMatter(text);
    return { text: body, format: 'markdown', ...(Object.keys(metadata).length > 0 && { metadata }) };
  }
}

export const markdownLoader: DocumentLoader = new TextFileLoader(['.md', '.markdown', '.mdx'], 'markdown');
export const textLoader: DocumentLoader = new TextFileLoader(['.txt', '.text'], 'text');

export interface BuiltinLoaderOptions {
  pdf?: PdfLoaderOptions;
}

/** Every built-in loader: Markdown, plain text, PDF, HTML and .docx (a new PDF loader each time: it owns a thread). */
export function builtinLoaders(options: BuiltinLoaderOptions = {}): DocumentLoader[] {
  return [markdownLoader, textLoader, new PdfLoader(options.pdf), new HtmlLoader(), new DocxLoader()];
}

/** Loaders keyed by extension; later registrations win. */
export class LoaderRegistry {
  private readonly byExt = new Map<string, DocumentLoader>();
  private readonly all = new Set<DocumentLoader>();

  constructor(loaders: readonly DocumentLoader[] = builtinLoaders()) {
    for (const l of loaders) this.register(l);
  }

  register(loader: DocumentLoader): void {
    this.all.add(loader);
    for (const ext of loader.extensions) this.byExt.set(ext.toLowerCase(), loader);
  }

  forFile(filePath: string): DocumentLoader | undefined {
    return this.byExt.get(path.extname(filePath).toLowerCase());
  }

  get extensions(): string[] {
    return [...this.byExt.keys()].sort();
  }

  /** Releases what the loaders hold (the PDF parsing thread). */
  async close(): Promise<void> {
    await Promise.all([...this.all].map((l) => l.close?.()));
  }
}
