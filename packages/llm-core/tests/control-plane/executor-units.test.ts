// Pure parts of the executor: the SSE parser and the per-instance circuit breaker.
import { CircuitBreaker, parseSseData } from '../../src/control-plane/executor';

async function collect(chunks: string[]): Promise<string[]> {
  async function* src() {
    for (const c of chunks) yield Buffer.from(c);
  }
  const out: string[] = [];
  for await (const d of parseSseData(src())) out.push(d);
  return out;
}

describe('parseSseData', () => {
  it('yields data payloads across chunk boundaries and stops at [DONE]', async () => {
    const out = await collect(['data: {"a":', '1}\n\n: comment\n\nevent: x\ndata: {"b":2}\r\n\r\n', 'data: [DONE]\n\n', 'data: {"after":true}\n\n']);
    expect(out).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('joins multi-line data and keeps a last event without its blank line', async () => {
    expect(await collect(['data: line1\ndata: line2\n\n', 'data: tail'])).toEqual(['line1\nline2', 'tail']);
  });
});

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, lets one probe through after the cooldown, and closes on success', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
    b.onFailure();
    b.onFailure();
    expect(b.currentState).toBe('closed');
    b.onSuccess(); // the streak is broken
    b.onFailure();
    b.onFailure();
    expect(b.canRequest()).toBe(true);
    b.onFailure();
    expect(b.currentState).toBe('open');
    expect(b.canRequest()).toBe(false);
    expect(b.msUntilProbe).toBe(1000);
    now = 1000;
    expect(b.currentState).toBe('half_open');
    expect(b.acquire()).toBe(true);
    expect(b.acquire()).toBe(false); // only one probe at a time
    b.onSuccess();
    expect(b.currentState).toBe('closed');
  });

  it('re-opens when the half-open probe fails', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 500, now: () => now });
    b.onFailure();
    now = 600;
    expect(b.acquire()).toBe(true);
    b.onFailure();
    expect(b.currentState).toBe('open');
    expect(b.msUntilProbe).toBe(500);
  });

  it('gives the probe slot back when the probe ends without a verdict (cancelled)', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 500, now: () => now });
    b.onFailure();
    now = 600;
    expect(b.acquire()).toBe(true);
    expect(b.canRequest()).toBe(false);
    b.release();
    expect(b.currentState).toBe('half_open');
    expect(b.canRequest()).toBe(true); // the next request probes
    expect(b.acquire()).toBe(true);
    expect(b.acquire()).toBe(false);
  });
});
