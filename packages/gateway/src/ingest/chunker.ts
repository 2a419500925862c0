// Chunking by structure, then by size (F-501): Markdown headings split a document into sections, blank
// lines split sections into paragraphs (a fenced code block stays whole), and paragraphs are packed into
// chunks of at most `maxTokens`. A paragraph too large on its own is cut at sentence ends, and a sentence
// too large at token boundaries. Consecutive chunks of one section share up to `overlapTokens` of
// trailing sentences, so a fact that straddles a cut is still found whole; sections never overlap. A paged
// document (PDF) is chunked page by page, so every chunk lies on one page, and headings carry over pages.
import { countTokens, decodeTokens, encodeTokens } from '@sage/common';
import type { DocumentFormat } from './document';
import { splitSentences } from './sentences';

export interface ChunkingOptions {
  /** Upper bound on tokens per chunk (default 256). */
  maxTokens?: number;
  /** Tokens of trailing sentences repeated at the start of the next chunk of the same section (default 32). */
  overlapTokens?: number;
}

export interface TextChunk {
  text: string;
  headingPath: string[];
  position: number;
  /** Page the chunk is on, from 1, for paged documents. */
  page?: number;
}

/** What the chunker reads: the text, or for a paged document the text of each page. */
export interface ChunkableDocument {
  text: string;
  format: DocumentFormat;
  pages?: readonly string[];
}

export const DEFAULT_CHUNK_TOKENS = 256;
export const DEFAULT_OVERLAP_TOKENS = 32;

interface Section {
  headingPath: string[];
  paragraphs: string[];
}

const HEADING_RE = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE_RE = /^ {0,3}(```|~~~)/;

interface OpenHeading {
  level: number;
  title: string;
}

/**
 * Sections of a Markdown text (headings outside code fences), each with its paragraphs. `stack` holds the
 * headings open where the text starts (those of the pages before) and is left holding those open at its end.
 */
function markdownSections(text: string, stack: OpenHeading[] = []): Section[] {
  const sections: Section[] = [];
  let current: Section = { headingPath: stack.map((h) => h.title), paragraphs: [] };
  let para: string[] = [];
  let fence: string | null = null;

  const flushPara = () => {
    const p = para.join('\n').trim();
    if (p) current.paragraphs.push(p);
    para = [];
  };
  const startSection = (level: number, title: string) => {
    flushPara();
    if (current.paragraphs.length > 0) sections.push(current);
    while (stack.length > 0 && (stack[stack.length - 1] as { level: number }).level >= level) stack.pop();
    stack.push({ level, title });
    current = { headingPath: stack.map((h) => h.title), paragraphs: [] };
  };

  for (const line of text.split('\n')) {
    const f = FENCE_RE.exec(line);
    if (fence) {
      para.push(line);
      if (f && f[1] === fence) fence = null;
      continue;
    }
    if (f) {
      fence = f[1] as string;
      para.push(line);
      continue;
    }
    const h = HEADING_RE.exec(line);
    if (h) {
      startSection((h[1] as string).length, h[2] as string);
      continue;
    }
    // Setext headings: a single line of text underlined with === (level 1) or --- (level 2).
    if (para.length === 1 && /^ {0,3}(=+|-+)\s*$/.test(line)) {
      const title = (para[0] as string).trim();
      para = [];
      startSection(line.trim().startsWith('=') ? 1 : 2, title);
      continue;
    }
    if (line.trim() === '') flushPara();
    else para.push(line);
  }
  flushPara();
  if (current.paragraphs.length > 0) sections.push(current);
  return sections;
}

function textSections(text: string): Section[] {
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  return paragraphs.length > 0 ? [{ headingPath: [], paragraphs }] : [];
}

/** Cuts a text that exceeds `max` tokens into pieces of at most `max` tokens, at token boundaries. */
function splitByTokens(text: string, max: number): string[] {
  const ids = encodeTokens(text);
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += max) out.push(decodeTokens(ids.slice(i, i + max)).trim());
  return out.filter((s) => s.length > 0);
}

/** Pieces of a paragraph, each within `max` tokens: the paragraph itself, or its sentences, or token windows. */
function units(paragraph: string, max: number): string[] {
  if (countTokens(paragraph) <= max) return [paragraph];
  const out: string[] = [];
  for (const s of splitSentences(paragraph)) {
    if (countTokens(s) <= max) out.push(s);
    else out.push(...splitByTokens(s, max));
  }
  return out;
}

/** Trailing sentences of `text` that fit in `budget` tokens (empty when even the last one does not). */
function tail(text: string, budget: number): string {
  if (budget <= 0) return '';
  const sentences = splitSentences(text);
  const picked: string[] = [];
  let used = 0;
  for (let i = sentences.length - 1; i >= 0; i--) {
    const t = countTokens(sentences[i] as string) + 1;
    if (used + t > budget) break;
    picked.unshift(sentences[i] as string);
    used += t;
  }
  return picked.join(' ');
}

export function chunkText(text: string, format: DocumentFormat, options: ChunkingOptions = {}): TextChunk[] {
  return chunkDocument({ text, format }, options);
}

/** Chunks of a document; those of a paged document carry their page and never span two pages. */
export function chunkDocument(doc: ChunkableDocument, options: ChunkingOptions = {}): TextChunk[] {
  const chunks: TextChunk[] = [];
  if (!doc.pages) {
    chunkSections(doc.format === 'markdown' ? markdownSections(doc.text) : textSections(doc.text), chunks, options);
    return chunks;
  }
  const open: OpenHeading[] = [];
  doc.pages.forEach((page, i) => {
    chunkSections(doc.format === 'markdown' ? markdownSections(page, open) : textSections(page), chunks, options, i + 1);
  });
  return chunks;
}

function chunkSections(sections: readonly Section[], chunks: TextChunk[], options: ChunkingOptions, page?: number): void {
  const maxTokens = Math.max(16, Math.floor(options.maxTokens ?? DEFAULT_CHUNK_TOKENS));
  // Overlap is capped at half a chunk so that every chunk adds new text.
  const overlap = Math.max(0, Math.min(Math.floor(options.overlapTokens ?? DEFAULT_OVERLAP_TOKENS), Math.floor(maxTokens / 2)));

  for (const section of sections) {
    let parts: string[] = [];
    let tokens = 0;
    let fresh = false; // the chunk holds more than the overlap carried from the previous one
    const emit = () => {
      if (!fresh) return;
      const body = parts.join('\n\n');
      chunks.push({ text: body, headingPath: section.headingPath, position: chunks.length, ...(page !== undefined && { page }) });
      const carried = tail(body, overlap);
      parts = carried ? [carried] : [];
      tokens = carried ? countTokens(carried) : 0;
      fresh = false;
    };
    for (const paragraph of section.paragraphs) {
      // Room left for new text once the overlap is in: pieces are sized so one always fits in a fresh chunk.
      for (const unit of units(paragraph, maxTokens - overlap - 2)) {
        const t = countTokens(unit) + 2; // + the paragraph separator
        if (tokens + t > maxTokens) emit();
        parts.push(unit);
        tokens += t;
        fresh = true;
      }
    }
    emit();
  }
}

/**
 * Identifies the chunking settings (and the chunker's version: v2 splits sentences by the Unicode rules), so
 * that changing them makes every document count as changed.
 */
export function chunkingFingerprint(options: ChunkingOptions = {}): string {
  return `chunk:v2:${options.maxTokens ?? DEFAULT_CHUNK_TOKENS}:${options.overlapTokens ?? DEFAULT_OVERLAP_TOKENS}`;
}
