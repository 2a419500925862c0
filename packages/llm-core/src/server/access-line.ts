// The access line of a request that ended well, serialized the way pino serializes it — the same bytes pino would
// write for `logger[level]({ reqId, method, url, status, ms, clientRequestId, instance }, 'request completed')` — and
// handed to the logger's destination. pino's generic serializer walks the fields of any object it is given (a
// lookup of each key among the serializers and stringifiers, the key itself escaped, ~30 pieces of string joined);
// for one fixed record written on every request, that is most of the line's cost (~0.6 of ~1 µs). The parts that
// belong to the logger (level, time, bindings, the line's end) come from the logger itself through `pino.symbols`,
// so the line follows its configuration; a logger that changes lines in any way this writer does not reproduce
// (serializers or redaction of these fields, a mixin, a log formatter, hooks, a message prefix or nested key, a
// multistream destination, pino's serialization traced) gets none, and its lines are written by pino as before.
import { tracingChannel } from 'node:diagnostics_channel';
import pino, { type Logger } from 'pino';

/** One access record: the fields of the line, in their order. */
export interface AccessRecord {
  reqId: string;
  method: string;
  url: string;
  status: number;
  ms: number;
  clientRequestId: string | undefined;
  instance: string | undefined;
}

export const ACCESS_MESSAGE = 'request completed';

/** The record's keys: a logger that serializes or redacts any of them writes its own lines. */
const KEYS = ['reqId', 'method', 'url', 'status', 'ms', 'clientRequestId', 'instance'] as const;

const S = pino.symbols;
/** Subscribed when a tool traces pino's serialization; then pino serializes every line itself. */
const asJsonTrace = tracingChannel('pino_asJson');

interface Stringifiers {
  [key: string | symbol]: unknown;
}

/** The logger's internals this writer reads, all under `pino.symbols`. */
interface PinoInternals {
  [key: symbol]: unknown;
}

/** pino's JSON string of a field value (tools.js asString): quotes and backslashes escaped, control characters through JSON.stringify. */
function pinoString(str: string): string {
  const l = str.length;
  if (l > 100) return JSON.stringify(str);
  // The common case, an id or a path: nothing to escape (and what pino leaves as it is, the same here).
  let i = 0;
  for (; i < l; i++) {
    const c = str.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92) break;
  }
  if (i === l) return `"${str}"`;
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  for (i = 0; i < l && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += `${str.slice(last, i)}\\`;
      last = i;
      found = true;
    }
  }
  result = found ? result + str.slice(last) : str;
  return point < 32 ? JSON.stringify(str) : `"${result}"`;
}

export class AccessLineWriter {
  private readonly l: PinoInternals;
  private readonly stream: { write(line: string): unknown };
  private readonly msg = `,"msg":${pinoString(ACCESS_MESSAGE)}`;

  private constructor(logger: Logger) {
    this.l = logger as unknown as PinoInternals;
    this.stream = this.l[S.streamSym] as { write(line: string): unknown };
  }

  /** A writer for `logger`'s lines, or undefined when the logger's own lines may differ from the ones written here. */
  static for(logger: Logger): AccessLineWriter | undefined {
    const l = logger as unknown as PinoInternals;
    const stream = l[S.streamSym] as { write?: unknown; [key: symbol]: unknown } | undefined;
    if (!stream || typeof stream.write !== 'function' || stream[S.needsMetadataGsym] === true) return undefined;
    if (typeof l[S.timeSym] !== 'function' || typeof l[S.lsCacheSym] !== 'object' || typeof l[S.chindingsSym] !== 'string' || typeof l[S.endSym] !== 'string') return undefined;
    if (l[S.mixinSym] || l[S.nestedKeySym] || l[S.messageKeySym] !== 'msg' || logger.msgPrefix !== undefined) return undefined;
    if ((l[S.formattersSym] as { log?: unknown } | undefined)?.log) return undefined;
    const hooks = l[S.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
    if (hooks?.logMethod || hooks?.streamWrite) return undefined;
    const serializers = (l[S.serializersSym] ?? {}) as Record<string, unknown>;
    const stringifiers = (l[S.stringifiersSym] ?? {}) as Stringifiers;
    if (stringifiers[S.wildcardFirstSym] || stringifiers.msg) return undefined;
    for (const key of KEYS) if (serializers[key] || stringifiers[key] || l[S.errorKeySym] === key) return undefined;
    return new AccessLineWriter(logger);
  }

  /** Writes `record` at `level` (a level the caller found enabled); false when pino must write this one itself. */
  write(levelValue: number, r: AccessRecord): boolean {
    if (asJsonTrace.hasSubscribers) return false;
    const l = this.l;
    const prefix = (l[S.lsCacheSym] as Record<number, string | undefined>)[levelValue];
    if (prefix === undefined) return false;
    let line = `${prefix}${(l[S.timeSym] as () => string)()}${l[S.chindingsSym] as string},"reqId":${pinoString(r.reqId)},"method":${pinoString(r.method)},"url":${pinoString(r.url)},"status":${finite(r.status)},"ms":${finite(r.ms)}`;
    if (r.clientRequestId !== undefined) line += `,"clientRequestId":${pinoString(r.clientRequestId)}`;
    if (r.instance !== undefined) line += `,"instance":${pinoString(r.instance)}`;
    this.stream.write(line + this.msg + (l[S.endSym] as string));
    return true;
  }
}

/** A number as pino writes it (a non-finite one as null). */
const finite = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');
