// Turning a file into text, by extension. Markdown and plain text are built in; more formats plug in
// through `DocumentLoader` (e.g. a PDF or HTML loader) without touching the chunker or the store.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export type DocumentFormat = 'markdown' | 'text';

export interface LoadedDocument {
  text: string;
  /** How the chunker should read the text: Markdown headings give structure; plain text has paragraphs only. */
  format: DocumentFormat;
}

export interface DocumentLoader {
  /** Lower-case extensions with the dot, e.g. ['.md', '.markdown']. */
  readonly extensions: readonly string[];
  load(filePath: string): Promise<LoadedDocument>;
}

class Utf8Loader implements DocumentLoader {
  constructor(
    readonly extensions: readonly string[],
    private readonly format: DocumentFormat,
  ) {}

  async load(filePath: string): Promise<LoadedDocument> {
    // A byte-order mark is not content; CRLF line ends would defeat the paragraph and heading rules.
    const text = (await readFile(filePath, 'utf8')).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
    return { text, format: this.format };
  }
}

export const markdownLoader: DocumentLoader = new Utf8Loader(['.md', '.markdown', '.mdx'], 'markdown');
export const textLoader: DocumentLoader = new Utf8Loader(['.txt', '.text'], 'text');

/** Loaders keyed by extension; later registrations win. */
export class LoaderRegistry {
  private readonly byExt = new Map<string, DocumentLoader>();

  constructor(loaders: readonly DocumentLoader[] = [markdownLoader, textLoader]) {
    for (const l of loaders) this.register(l);
  }

  register(loader: DocumentLoader): void {
    for (const ext of loader.extensions) this.byExt.set(ext.toLowerCase(), loader);
  }

  forFile(filePath: string): DocumentLoader | undefined {
    return this.byExt.get(path.extname(filePath).toLowerCase());
  }

  get extensions(): string[] {
    return [...this.byExt.keys()].sort();
  }
}
