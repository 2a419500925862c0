import * as net from 'node:net';
import { DEFAULT_PORT_RANGES, isPortListening } from '../../src/engines/ports';
import { PortAllocator, PortConflictError } from '../../src';

function listen(port = 0): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/**
 * A listener on a port in 6000-7999, away from the ephemeral ports (32768+) that other tests' port-0
 * listeners take and from the test engine blocks, so the ports just above it stay free for this test.
 */
async function listenLow(): Promise<net.Server> {
  for (let i = 0; ; i++) {
    try {
      return await listen(6000 + Math.floor(Math.random() * 1950));
    } catch (err) {
      if (i >= 20) throw err;
    }
  }
}
const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;
const close = (s: net.Server): Promise<void> => new Promise((r) => s.close(() => r()));

describe('PortAllocator with real TCP probes', () => {
  const servers: net.Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map(close));
  });

  it('a port something listens on is not free; the next one in the range is taken instead', async () => {
    const busy = await listenLow();
    servers.push(busy);
    const p = portOf(busy);
    expect(await isPortListening(p)).toBe(true);
    const ports = new PortAllocator({ ranges: { llm: { start: p, end: Math.min(65535, p + 50) } } });
    expect(await ports.isFree(p)).toBe(false);
    const got = await ports.allocate('llm', 'engine-a');
    expect(got).not.toBe(p);
    expect(got).toBeGreaterThan(p);
    expect(ports.holder(got)).toBe('engine-a');
    // it really was free: we can bind it
    const s = await listen(got);
    servers.push(s);
  });

  it('an explicit request for a busy port is a 409 conflict', async () => {
    const busy = await listen();
    servers.push(busy);
    const ports = new PortAllocator();
    const err = await ports.reserve(portOf(busy), 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortConflictError);
    expect(err).toMatchObject({ status: 409, reason: 'port_in_use', port: portOf(busy) });
    expect(ports.holder(portOf(busy))).toBeUndefined();
  });

  it('a port released by its engine and closed is free again', async () => {
    const s = await listen();
    const p = portOf(s);
    await close(s);
    const ports = new PortAllocator();
    await ports.reserve(p, 'e1');
    expect(await ports.isFree(p)).toBe(false); // held by a registered engine, although nothing listens
    expect(ports.release(p, 'someone-else')).toBe(false);
    expect(ports.release(p, 'e1')).toBe(true);
    expect(await ports.isFree(p)).toBe(true);
  });
});

describe('PortAllocator bookkeeping (injected probe)', () => {
  const nothingListens = async (): Promise<boolean> => false;

  it('defaults follow the documented port ranges', () => {
    expect(DEFAULT_PORT_RANGES.llm.start).toBe(8001);
    expect(DEFAULT_PORT_RANGES.embedding.start).toBe(8090);
    expect(DEFAULT_PORT_RANGES.fallback).toEqual({ start: 8900, end: 8999 });
  });

  it('allocates per kind from its own range, upward', async () => {
    const ports = new PortAllocator({ probe: nothingListens });
    expect(await ports.allocate('llm', 'a')).toBe(8001);
    expect(await ports.allocate('llm', 'b')).toBe(8002);
    expect(await ports.allocate('embedding', 'c')).toBe(8090);
    expect(ports.reservations()).toEqual([
      { port: 8001, owner: 'a' },
      { port: 8002, owner: 'b' },
      { port: 8090, owner: 'c' },
    ]);
  });

  it('falls back to the fallback range, then reports exhaustion', async () => {
    const ports = new PortAllocator({
      probe: nothingListens,
      ranges: { llm: { start: 20000, end: 20000 }, fallback: { start: 20010, end: 20011 } },
    });
    expect(await ports.allocate('llm', 'a')).toBe(20000);
    expect(await ports.allocate('llm', 'b')).toBe(20010);
    expect(await ports.allocate('llm', 'c')).toBe(20011);
    await expect(ports.allocate('llm', 'd')).rejects.toMatchObject({ reason: 'ports_exhausted', status: 409 });
  });

  it('concurrent allocations never share a port', async () => {
    const slowProbe = (): Promise<boolean> => new Promise((r) => setTimeout(() => r(false), 5));
    const ports = new PortAllocator({ probe: slowProbe, ranges: { embedding: { start: 30000, end: 30100 } } });
    const got = await Promise.all(Array.from({ length: 8 }, (_, i) => ports.allocate('embedding', `e${i}`)));
    expect(new Set(got).size).toBe(8);
  });

  it('explicit reservations: conflicts with other owners, idempotent for the same owner, invalid numbers', async () => {
    const ports = new PortAllocator({ probe: nothingListens });
    await ports.reserve(8500, 'a');
    await expect(ports.reserve(8500, 'a')).resolves.toBe(8500);
    await expect(ports.reserve(8500, 'b')).rejects.toMatchObject({ reason: 'port_reserved', status: 409 });
    await expect(ports.reserve(0, 'b')).rejects.toMatchObject({ reason: 'invalid_port', status: 400 });
    expect(() => ports.claim(8500, 'b')).toThrow(PortConflictError);
    ports.claim(8501, 'b');
    expect(ports.releaseOwner('b')).toEqual([8501]);
  });

  it('peek shows the next port without reserving it', async () => {
    const ports = new PortAllocator({ probe: async (p) => p === 8001 });
    expect(await ports.peek('llm')).toBe(8002);
    expect(await ports.peek('llm', [8002])).toBe(8003);
    expect(ports.reservations()).toEqual([]);
  });

  it('skips ports held by registered engines even when the probe says free', async () => {
    const ports = new PortAllocator({ probe: nothingListens });
    await ports.reserve(8001, 'external');
    expect(await ports.allocate('llm', 'x')).toBe(8002);
  });

  it('rejects malformed ranges', () => {
    expect(() => new PortAllocator({ ranges: { llm: { start: 9000, end: 8000 } } })).toThrow(/range/);
  });
});
