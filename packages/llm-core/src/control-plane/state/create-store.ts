// A state store from its address: `local` (or nothing) keeps state in this process, a Redis URL shares it.
import type { Logger } from 'pino';
import { LocalStateStore } from './local-store';
import { RedisStateStore, type RedisStateStoreOptions } from './redis-store';
import { parseStateStoreUrl } from './store-url';
import type { StateStore } from './types';

export type StateStoreTuning = Omit<RedisStateStoreOptions, 'url' | 'redactedUrl' | 'logger'>;

/** Throws StateStoreUrlError (one readable line) for an address that is not `local` or redis://HOST:PORT[/DB]. */
export function createStateStore(address: string | undefined, options: StateStoreTuning & { logger?: Logger } = {}): StateStore {
  const parsed = parseStateStoreUrl(address);
  if (parsed.kind === 'local') return new LocalStateStore(options.replicaId);
  return new RedisStateStore({ ...options, url: parsed.url, redactedUrl: parsed.redacted });
}
