// API-key authentication for the OpenAI API and the management API (F-305).
// Keys are compared in constant time over their SHA-256 digests (equal length, no early exit),
// and are never logged: only whether a key was present and whether it matched.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SageError } from '@sage/common';

export interface AuthConfig {
  /** Keys accepted on /v1/* (empty: no auth). */
  apiKeys: readonly string[];
  /** Key required on /v1/management/* (undefined: falls back to apiKeys). */
  adminKey?: string;
}

export type AuthScope = 'api' | 'admin';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** A key set that answers membership in constant time per stored key. */
export class KeyRing {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.filter((k) => k.length > 0).map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  has(candidate: string | undefined): boolean {
    if (!candidate) return false;
    const d = digest(candidate);
    let match = false;
    // Check every key so the time does not reveal which one (or whether any) matched.
    for (const k of this.digests) match = timingSafeEqual(k, d) || match;
    return match;
  }
}

/** Reads the bearer token (or `x-api-key`) from request headers. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers['authorization'];
  const value = Array.isArray(auth) ? auth[0] : auth;
  if (value) {
    const m = /^Bearer\s+(.+)$/i.exec(value.trim());
    if (m) return m[1]!.trim();
  }
  const x = headers['x-api-key'];
  return (Array.isArray(x) ? x[0] : x)?.trim() || undefined;
}

/**
 * An onRequest hook for a group of routes (a plugin's scope): the request must present a key of `ring`, unless the
 * ring is empty. It runs before the body is read, so an unauthenticated caller costs no parsing.
 */
export function requireKey(ring: KeyRing): (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void {
  // A callback hook, not an async one: no promise and no extra microtask turn per request.
  return (request, reply, done) => {
    if (!ring.enabled || ring.has(presentedKey(request.headers))) {
      done();
      return;
    }
    // Never echo or log the presented key.
    void reply.header('www-authenticate', 'Bearer');
    done(new SageError('invalid or missing API key', { status: 401, type: 'authentication_error', code: 'invalid_api_key' }));
  };
}

/** Parses SAGE_API_KEYS (comma-separated) and SAGE_ADMIN_KEY. */
export function authConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const apiKeys = (env.SAGE_API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const adminKey = env.SAGE_ADMIN_KEY?.trim() || undefined;
  return { apiKeys, adminKey };
}
