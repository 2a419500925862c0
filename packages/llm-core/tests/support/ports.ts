// Engine port ranges for tests: a random block per test file, so parallel runs rarely meet (the
// PortAllocator also probes, and a clash with another run only moves a port).
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
