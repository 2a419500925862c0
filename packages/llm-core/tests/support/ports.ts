// Engine port ranges for tests: a random block per test file, so parallel runs rarely meet (the
// PortAllocator also probes, and a clash with another run only moves a port).
import type { PortRanges } from '../../src/engines/ports';

/** A 40-port block chosen at random in 10120-19999: below Linux's ephemeral ports (32768+), which port-0 listeners
 * take between the allocator's probe and an engine's bind, and apart from the lifecycle tests' 20000-31999. It starts
 * above 10080, a port fetch refuses ("bad port"): a test that fetches an engine there failed once in 250 runs. */
export function randomPortRanges(): PortRanges {
  const base = 10120 + Math.floor(Math.random() * 247) * 40;
  return { llm: { start: base, end: base + 14 }, embedding: { start: base + 15, end: base + 29 }, fallback: { start: base + 30, end: base + 39 } };
}

export function inRanges(port: number, r: PortRanges): boolean {
  return [r.llm, r.embedding, r.fallback].some((x) => port >= x.start && port <= x.end);
}
