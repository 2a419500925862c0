// A replica's id in a shared store: readable (host and pid, so an operator can tell which process holds what)
// and unique across restarts (a restarted replica must not inherit the leases of the one it replaces).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export function newReplicaId(host = hostname()): string {
  const safeHost = host.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 60) || 'host';
  return `${safeHost}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
