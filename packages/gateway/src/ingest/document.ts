// What a loader makes of a file, and how it says that it cannot: the shapes shared by every loader, the
// chunker and the ingester.
import { GatewayError } from '../errors';

export type DocumentFormat = 'markdown' | 'text';

/** About a document rather than in it: from YAML front matter, an HTML <title>, a PDF's info dictionary. */
export interface DocumentMetadata {
  title?: string;
  tags?: string[];
}

export interface LoadedDocument {
  /** The whole text (for a paged document, its pages joined by blank lines). */
  text: string;
  /** How the chunker should read the text: Markdown headings give structure; plain text has paragraphs only. */
  format: DocumentFormat;
  /**
   * The text of each page, in order, for formats that have pages (PDF). Chunks never cross a page break and
   * carry their page number (from 1), so answers can cite it.
   */
  pages?: string[];
  metadata?: DocumentMetadata;
}

export interface DocumentLoader {
  /** Lower-case extensions with the dot, e.g. ['.md', '.markdown']. */
  readonly extensions: readonly string[];
  /** Rejects with a {@link LoadError} when the file cannot be turned into text. */
  load(filePath: string): Promise<LoadedDocument>;
  /** Releases what the loader holds (a parser thread); it may be used again afterwards. */
  close?(): Promise<void>;
}

/** Why a file could not be loaded, as reported per file in an ingest result. */
export type LoadErrorCode =
  /** Password-protected (an encrypted PDF, an encrypted Office file). */
  | 'encrypted_document'
  /** Not a valid file of its type (a truncated PDF, a .docx that is not a zip archive). */
  | 'corrupt_document'
  /** Binary data in a file whose type says text (an image named .html). */
  | 'binary_content'
  /** Parsing took longer than allowed, or more memory. */
  | 'parse_failed'
  /** The file could not be read at all (permissions, I/O). */
  | 'unreadable_file';

/** A file that cannot be turned into text: the caller's input, so a 400 if it reaches the HTTP edge. */
export class LoadError extends GatewayError {
  declare readonly code: LoadErrorCode;
  constructor(code: LoadErrorCode, message: string) {
    super(400, message, code);
  }
}

/** Any failure of a loader as a LoadError: unknown errors are reported as the file being unreadable. */
export function toLoadError(err: unknown): LoadError {
  if (err instanceof LoadError) return err;
  const e = err as NodeJS.ErrnoException;
  return new LoadError('unreadable_file', e?.message ?? String(err));
}
