// Control-plane replicas as real child processes (fixtures/replica.cjs), sharing state through one store.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface Replica {
  url: string;
  replicaId: string;
  pid: number;
  /** SIGKILL: no drain, no release of anything it holds. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
}

const FIXTURE = path.join(__dirname, 'fixtures', 'replica.cjs');

export async function startReplica(stateStore: string, opts: { leaseTtlMs?: number } = {}): Promise<Replica> {
  const sageHome = mkdtempSync(path.join(tmpdir(), 'sage-replica-'));
  const args = [FIXTURE, stateStore, sageHome];
  if (opts.leaseTtlMs) args.push(String(opts.leaseTtlMs));
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => rmSync(sageHome, { recursive: true, force: true });
  const ready = await new Promise<{ url: string; replica: string }>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`replica did not start within 20 s: ${stderr}`)), 20_000);
    rl.on('line', (line) => {
      try {
        const ev = JSON.parse(line) as { event?: string; url?: string; replica?: string };
        if (ev.event === 'listening' && ev.url && ev.replica) {
          clearTimeout(timer);
          child.stdout?.resume();
          resolve({ url: ev.url, replica: ev.replica });
        }
      } catch {
        // not the line we wait for
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica exited (code ${code}) before listening: ${stderr}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await exited;
    cleanup();
    throw err;
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    cleanup();
  };
  return { url: ready.url, replicaId: ready.replica, pid: child.pid as number, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}
