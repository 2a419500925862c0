// Conversation history per session (F-504): one JSON file per session under the data directory, written
// atomically (temp file + rename), so history survives a restart and a crash never leaves half a file.
// The window is bounded: beyond `maxMessages`, the oldest turns are cut whole (a user message with the
// replies that followed it); the system prompt is kept apart and never cut.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ChatMessageSchema, type ChatMessage } from '@sage/common';
import { GatewayError } from '../errors';

export const SESSION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const DEFAULT_MAX_SESSION_MESSAGES = 20;

const SessionFileSchema = z.object({
  id: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
  system: z.string().nullable(),
  messages: z.array(ChatMessageSchema),
  /** Messages cut from the front of the window so far. */
  trimmed: z.number().int().nonnegative(),
});
export type Session = z.infer<typeof SessionFileSchema>;

export interface SessionSummary {
  id: string;
  createdAt: number;
  updatedAt: number;
  messages: number;
}

export function validateSessionId(id: string, param = 'session_id'): string {
  if (!SESSION_ID_RE.test(id)) {
    throw new GatewayError(400, `invalid session id "${id.slice(0, 40)}": use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`, 'invalid_session_id', param);
  }
  return id;
}

/** Cuts whole turns from the front until at most `max` messages remain (a lone over-long turn is cut too). */
export function boundWindow(messages: readonly ChatMessage[], max: number): { kept: ChatMessage[]; cut: number } {
  let start = 0;
  while (messages.length - start > max) {
    let next = start + 1;
    while (next < messages.length && messages[next]?.role !== 'user') next++;
    start = next;
  }
  return { kept: messages.slice(start), cut: start };
}

export class SessionStore {
  // Requests of one session run one after another, so two turns never interleave their history.
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly directory: string,
    readonly maxMessages = DEFAULT_MAX_SESSION_MESSAGES,
  ) {}

  private file(id: string): string {
    return path.join(this.directory, `${id}.json`);
  }

  /** Runs `fn` with the session's lock held. */
  async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  async get(id: string): Promise<Session | undefined> {
    validateSessionId(id, 'id');
    let raw: string;
    try {
      raw = await readFile(this.file(id), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = SessionFileSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new GatewayError(500, `session file ${this.file(id)} is corrupt`, 'corrupt_session');
    return parsed.data;
  }

  /** Appends messages (and replaces the system prompt when one is given), bounding the window. */
  async append(id: string, messages: readonly ChatMessage[], system?: string | null): Promise<Session> {
    const now = Date.now();
    const s: Session = (await this.get(id)) ?? { id, createdAt: now, updatedAt: now, system: null, messages: [], trimmed: 0 };
    const { kept, cut } = boundWindow([...s.messages, ...messages], this.maxMessages);
    const next: Session = { ...s, updatedAt: now, system: system === undefined ? s.system : system, messages: kept, trimmed: s.trimmed + cut };
    await mkdir(this.directory, { recursive: true });
    const tmp = `${this.file(id)}.${process.pid}.${now}.tmp`;
    await writeFile(tmp, JSON.stringify(next, null, 1));
    await rename(tmp, this.file(id));
    return next;
  }

  async list(): Promise<SessionSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: SessionSummary[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const s = await this.get(n.slice(0, -5)).catch(() => undefined);
      if (s) out.push({ id: s.id, createdAt: s.createdAt, updatedAt: s.updatedAt, messages: s.messages.length });
    }
    return out.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async delete(id: string): Promise<boolean> {
    validateSessionId(id, 'id');
    const existed = (await this.get(id)) !== undefined;
    await rm(this.file(id), { force: true });
    return existed;
  }
}
