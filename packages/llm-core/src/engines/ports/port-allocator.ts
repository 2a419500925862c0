// The one port allocator (ranges in docs/features.md, "Ports"): a port is free only if nothing answers a TCP connect on it and no
// registered engine holds it. The control-plane manager owns the only instance; nothing else picks ports.
import * as net from 'node:net';
import { SageError } from '@sage/common';

export type PortKind = 'llm' | 'embedding';

export interface PortRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface PortRanges {
  llm: PortRange;
  embedding: PortRange;
  /** Tried for either kind once its own range is exhausted. */
  fallback: PortRange;
}

/** Default ranges: LLM engines 8001 upward, embedding engines 8090 upward, fallback 8900–8999. */
export const DEFAULT_PORT_RANGES: Readonly<PortRanges> = {
  llm: { start: 8001, end: 8089 },
  embedding: { start: 8090, end: 8199 },
  fallback: { start: 8900, end: 8999 },
};

export type PortErrorReason = 'port_reserved' | 'port_in_use' | 'ports_exhausted' | 'invalid_port';

/** A port that cannot be had; the management API turns it into 409 (400 for an invalid number). */
export class PortConflictError extends SageError {
  constructor(
    readonly reason: PortErrorReason,
    readonly port: number | undefined,
    message: string,
  ) {
    super(message, { status: reason === 'invalid_port' ? 400 : 409, code: reason, param: 'port' });
  }
}

/** Resolves true when something accepts a TCP connection on host:port within timeoutMs. */
export function isPortListening(port: number, host = '127.0.0.1', timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (answer: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface PortAllocatorOptions {
  ranges?: Partial<PortRanges>;
  /** Host probed for listeners. */
  host?: string;
  probeTimeoutMs?: number;
  /** Injectable probe (tests); default: a TCP connect to host:port. */
  probe?: (port: number) => Promise<boolean>;
}

export interface PortReservation {
  port: number;
  owner: string;
}

export class PortAllocator {
  readonly ranges: Readonly<PortRanges>;
  private readonly holders = new Map<number, string>();
  private readonly probe: (port: number) => Promise<boolean>;

  constructor(options: PortAllocatorOptions = {}) {
    this.ranges = { ...DEFAULT_PORT_RANGES, ...options.ranges };
    for (const [name, r] of Object.entries(this.ranges)) {
      if (!validPort(r.start) || !validPort(r.end) || r.start > r.end) throw new Error(`invalid ${name} port range ${r.start}-${r.end}`);
    }
    const host = options.host ?? '127.0.0.1';
    this.probe = options.probe ?? ((port) => isPortListening(port, host, options.probeTimeoutMs));
  }

  /** Who holds a port, if anyone. */
  holder(port: number): string | undefined {
    return this.holders.get(port);
  }

  reservations(): PortReservation[] {
    return [...this.holders.entries()].map(([port, owner]) => ({ port, owner })).sort((a, b) => a.port - b.port);
  }

  portsOf(owner: string): number[] {
    return this.reservations().filter((r) => r.owner === owner).map((r) => r.port);
  }

  async isFree(port: number): Promise<boolean> {
    return !this.holders.has(port) && !(await this.probe(port));
  }

  /**
   * First free port of the kind's range, then of the fallback range; reserved for `owner` before returning.
   * The candidate is claimed before the (asynchronous) probe, so concurrent calls never get the same port.
   */
  async allocate(kind: PortKind, owner: string): Promise<number> {
    for (const range of [this.ranges[kind], this.ranges.fallback]) {
      for (let port = range.start; port <= range.end; port++) {
        if (this.holders.has(port)) continue;
        this.holders.set(port, owner);
        if (!(await this.probe(port))) return port;
        this.holders.delete(port);
      }
    }
    const { start, end } = this.ranges[kind];
    const fb = this.ranges.fallback;
    throw new PortConflictError('ports_exhausted', undefined, `no free ${kind} port in ${start}-${end} nor in ${fb.start}-${fb.end}`);
  }

  /** The port allocate() would hand out now, without reserving it (dry runs); `skip` excludes planned ones. */
  async peek(kind: PortKind, skip: readonly number[] = []): Promise<number> {
    for (const range of [this.ranges[kind], this.ranges.fallback]) {
      for (let port = range.start; port <= range.end; port++) {
        if (this.holders.has(port) || skip.includes(port)) continue;
        if (!(await this.probe(port))) return port;
      }
    }
    throw new PortConflictError('ports_exhausted', undefined, `no free ${kind} port left`);
  }

  /**
   * Reserves an explicitly requested port. Throws PortConflictError when another owner holds it or
   * something already listens there.
   */
  async reserve(port: number, owner: string): Promise<number> {
    if (!validPort(port)) throw new PortConflictError('invalid_port', port, `port must be an integer in 1..65535, got ${port}`);
    const held = this.holders.get(port);
    if (held !== undefined && held !== owner) throw new PortConflictError('port_reserved', port, `port ${port} is already reserved by ${held}`);
    if (held === owner) return port;
    this.holders.set(port, owner);
    if (await this.probe(port)) {
      this.holders.delete(port);
      throw new PortConflictError('port_in_use', port, `port ${port} is already in use by another process`);
    }
    return port;
  }

  /**
   * Records a port that an engine of ours already listens on (adopted from an earlier run), without probing.
   * Throws PortConflictError when another owner holds it.
   */
  claim(port: number, owner: string): void {
    if (!validPort(port)) throw new PortConflictError('invalid_port', port, `port must be an integer in 1..65535, got ${port}`);
    const held = this.holders.get(port);
    if (held !== undefined && held !== owner) throw new PortConflictError('port_reserved', port, `port ${port} is already reserved by ${held}`);
    this.holders.set(port, owner);
  }

  /** Releases one port (only if `owner` matches, when given); true when something was released. */
  release(port: number, owner?: string): boolean {
    const held = this.holders.get(port);
    if (held === undefined || (owner !== undefined && held !== owner)) return false;
    return this.holders.delete(port);
  }

  /** Releases every port of an owner; returns them. */
  releaseOwner(owner: string): number[] {
    const ports = this.portsOf(owner);
    for (const p of ports) this.holders.delete(p);
    return ports;
  }
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}
