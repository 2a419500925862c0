// Helpers for embedded-client tests: random port ranges (the PortAllocator also probes, so a clash with a
// parallel run only moves a port), a private stateRoot per test, and process checks.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PortRanges } from '../../src/engines/ports';

/** A 40-port block chosen at random in 10000-19999: below Linux's ephemeral ports (32768+), which port-0 listeners
 * take between the allocator's probe and an engine's bind, and apart from the lifecycle tests' 20000-31999. */
export function randomPortRanges(): PortRanges {
  const base = 10000 + Math.floor(Math.random() * 250) * 40;
  return { llm: { start: base, end: base + 14 }, embedding: { start: base + 15, end: base + 29 }, fallback: { start: base + 30, end: base + 39 } };
}

export function inRanges(port: number, r: PortRanges): boolean {
  return [r.llm, r.embedding, r.fallback].some((x) => port >= x.start && port <= x.end);
}

/** A fresh directory for an embedded client's stateRoot, and what is in it. */
export function tempRoot(): { dir: string; entries(): string[]; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sage-client-test-'));
  return { dir, entries: () => readdirSync(dir), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True while a process with this pid exists. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of this process's live children (Linux /proc): engines are children even when detached. */
export function childPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the parenthesised command: state, ppid, ...; a zombie (Z) has exited.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && state !== 'Z') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export async function waitFor<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

/** True while the process runs: unlike alive(), an exited process not yet reaped (a zombie) counts as gone. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
