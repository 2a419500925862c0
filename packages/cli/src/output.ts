// How results reach a person (tables, short lines) or a script (--json), and how JSON log lines read in a terminal.
import Table from 'cli-table3';

export interface Out {
  write(text: string): void;
  error(text: string): void;
  /** Colours and spinners only for a terminal. */
  isTTY: boolean;
  /** Terminal width, when there is a terminal. */
  columns?: number;
}

export const processOut: Out = {
  write: (t) => process.stdout.write(t),
  error: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY),
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
};

/** Shortens text to `max` characters with an ellipsis (for free-text columns in a terminal). */
export function fit(text: string, max: number | undefined): string {
  if (max === undefined || text.length <= max) return text;
  return `${text.slice(0, Math.max(1, max - 1))}…`;
}

export function printJson(out: Out, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A borderless table that fits a terminal and pastes well into plain text. */
export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '',
    },
  });
  for (const r of rows) t.push(r.map((c) => String(c)));
  // cli-table3 pads the last column too; trailing spaces only get in the way when pasted.
  return `${t.toString().split('\n').map((l) => l.replace(/\s+$/, '')).join('\n')}\n`;
}

export function duration(sec: number): string {
  if (sec < 60) return `${Math.round(sec)}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m ${Math.round(sec % 60)}s`;
  const h = Math.floor(sec / 3600);
  return h < 48 ? `${h}h ${Math.floor((sec % 3600) / 60)}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

/** fastify's request/response objects say more than a person needs: method, path, status, time. */
function compactHttp(rec: Record<string, unknown>): void {
  const req = rec.req as { method?: string; url?: string } | undefined;
  if (req && typeof req === 'object' && req.method) rec.req = `${req.method} ${req.url}`;
  // The control plane's access line: method and url as one field, as a person reads them.
  if (typeof rec.method === 'string' && typeof rec.url === 'string') {
    const { method, url, ...rest } = rec;
    for (const k of Object.keys(rec)) delete rec[k];
    Object.assign(rec, { req: `${method} ${url}` }, rest);
  }
  const res = rec.res as { statusCode?: number } | undefined;
  if (res && typeof res === 'object' && res.statusCode !== undefined) {
    delete rec.res;
    rec.status = res.statusCode;
  }
  if (typeof rec.responseTime === 'number') rec.responseTime = `${rec.responseTime < 10 ? rec.responseTime.toFixed(1) : Math.round(rec.responseTime)}ms`;
}

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v && typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string') return JSON.stringify((v as { message: string }).message);
  return JSON.stringify(v);
}

/** A pino JSON line as `HH:MM:SS LEVEL message key=value …`; anything else is returned unchanged. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof rec.level !== 'number' || rec.msg === undefined) return line;
  compactHttp(rec);
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 19) : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${fieldValue(v)}`)
    .join(' ');
  return `${time} ${(LEVELS[rec.level] ?? String(rec.level)).padEnd(5)} ${String(rec.msg)}${fields ? `  ${fields}` : ''}`;
}
