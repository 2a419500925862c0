// Document ids of files: a hash of the absolute path, so the same file always maps to the same document.
import { createHash } from 'node:crypto';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A file's document id: stable for its absolute path, short enough for a URL. */
export function fileDocumentId(absPath: string): string {
  return `doc_${sha256(absPath).slice(0, 16)}`;
}

/** Whether a stored document came from a file (rather than text given inline with a source of its own). */
export function isFileDocument(doc: { id: string; source: string }): boolean {
  return doc.id === fileDocumentId(doc.source);
}
