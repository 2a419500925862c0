// ${SAGE_HOME}/run/engines.json: every engine process this control plane started, so a later run can find
// them (adopt or stop) instead of leaking them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineStateRecord } from './types';

export interface StateFileContent {
  version: 1;
  engines: (EngineStateRecord & { env?: Record<string, string> })[];
}

export type StoredEngine = StateFileContent['engines'][number];

function isRecord(x: unknown): x is StoredEngine {
  const r = x as Partial<StoredEngine> | null;
  return (
    !!r &&
    typeof r.id === 'string' &&
    Number.isInteger(r.pid) &&
    Number.isInteger(r.port) &&
    typeof r.kind === 'string' &&
    typeof r.model === 'string' &&
    Array.isArray(r.command)
  );
}

/** Reads the state file; a missing file is empty, a corrupt one is moved aside (and reported) rather than trusted. */
export function readStateFile(file: string): { engines: StoredEngine[]; warning?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { engines: [] };
    return { engines: [], warning: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    const parsed = JSON.parse(text) as Partial<StateFileContent>;
    const list = Array.isArray(parsed.engines) ? parsed.engines : [];
    const engines = list.filter(isRecord);
    const dropped = list.length - engines.length;
    return { engines, warning: dropped ? `${dropped} malformed entr${dropped === 1 ? 'y' : 'ies'} ignored in ${file}` : undefined };
  } catch (err) {
    const aside = `${file}.corrupt-${Date.now()}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      // leave it
    }
    return { engines: [], warning: `corrupt state file moved to ${aside}: ${(err as Error).message}` };
  }
}

/** Atomic replace (write + rename), owner-only permissions: it can hold engine environment variables. */
export function writeStateFile(file: string, engines: StoredEngine[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const content: StateFileContent = { version: 1, engines };
  fs.writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}
