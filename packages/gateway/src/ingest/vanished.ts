// Which stored documents a folder ingest removes: those ingested from files under one of the folders that
// no longer exist. Sources and folders are both absolute and resolved (path.resolve, not realpath), the
// form ingestion stores, so a folder reached another way (through a symlink) is a different folder and
// touches nothing. A file still present but not collected (hidden, a symlink, now unsupported) is kept.
import { lstat } from 'node:fs/promises';
import type { DocumentInfo } from '../store/vector-store';
import { within } from './collect';
import { isFileDocument } from './document-id';

async function gone(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return false;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Only a definite "not there" removes a document; an unreadable path (EACCES, EIO) keeps it.
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/**
 * @param folders absolute, resolved folder paths that were ingested
 * @param collected files this ingest found (never removed)
 */
export async function vanishedDocuments(stored: readonly DocumentInfo[], folders: readonly string[], collected: ReadonlySet<string>): Promise<DocumentInfo[]> {
  const candidates = stored.filter((d) => !collected.has(d.source) && isFileDocument(d) && folders.some((f) => within(f, d.source)));
  const missing = await Promise.all(candidates.map((d) => gone(d.source)));
  return candidates.filter((_, i) => missing[i]);
}
