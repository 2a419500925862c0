// The state store's address as users write it: `redis://[:PASSWORD@]HOST:PORT[/DB]` (or rediss:// for TLS),
// `local` (or nothing) for this process alone. Checked at the edge with zod, so a typo fails at start-up with
// one clear line rather than as a connection that never comes up.
import { z } from 'zod';
import { SageError } from '@sage/common';

export type StateStoreAddress = { kind: 'local' } | { kind: 'redis'; url: string; host: string; port: number; db: number; tls: boolean; redacted: string };

export const DEFAULT_REDIS_PORT = 6379;

export class StateStoreUrlError extends SageError {
  constructor(message: string) {
    super(message, { status: 400, code: 'invalid_state_store' });
  }
}

/** `local`: this process alone; otherwise a Redis URL. */
export const stateStoreSchema = z.string().transform((raw, ctx): StateStoreAddress => {
  if (raw.trim() === 'local') return { kind: 'local' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${raw}" is not a URL; expected redis://HOST:PORT[/DB] or local` });
    return z.NEVER;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    ctx.addIssue({ code: 'custom', message: `unsupported scheme "${url.protocol.replace(/:$/, '')}"; expected redis://HOST:PORT[/DB] or local` });
    return z.NEVER;
  }
  if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: 'no host; expected redis://HOST:PORT[/DB]' });
    return z.NEVER;
  }
  const path = url.pathname.replace(/^\/+|\/+$/g, '');
  if (path !== '' && !/^\d+$/.test(path)) {
    ctx.addIssue({ code: 'custom', message: `database "${path}" is not a number; expected redis://HOST:PORT[/DB] with DB 0-15` });
    return z.NEVER;
  }
  const db = path === '' ? 0 : Number(path);
  if (db > 15) {
    ctx.addIssue({ code: 'custom', message: `database ${db} is out of range 0-15` });
    return z.NEVER;
  }
  const port = url.port ? Number(url.port) : DEFAULT_REDIS_PORT;
  const redacted = `${url.protocol}//${url.username || url.password ? `${url.username}:***@` : ''}${url.host}/${db}`;
  return { kind: 'redis', url: url.toString(), host: url.hostname, port, db, tls: url.protocol === 'rediss:', redacted };
});


export function parseStateStoreUrl(raw: string | undefined): StateStoreAddress {
  const value = raw?.trim();
  if (!value) return { kind: 'local' };
  const parsed = stateStoreSchema.safeParse(value);
  if (!parsed.success) throw new StateStoreUrlError(`state store: ${parsed.error.issues[0]?.message ?? 'invalid address'}`);
  return parsed.data;
}
