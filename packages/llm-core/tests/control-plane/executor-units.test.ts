// Pure parts of the executor: the SSE parser and the per-instance circuit breaker.
import { CircuitBreaker, SseDataParser } from '../../src/control-plane/executor';

async function collect(chunks: Array<string | Buffer>): Promise<string[]> {
  async function* src() {
    for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
  }
  // Chunk by chunk as the stream call feeds it, then what a stream cut without its last blank line leaves.
  const parser = new SseDataParser();
  const out: string[] = [];
  for await (const chunk of src()) {
    out.push(...parser.push(chunk));
    if (parser.done) return out;
  }
  const last = parser.end();
  if (last !== undefined) out.push(last);
  return out;
}

describe('SseDataParser', () => {
  it('yields data payloads across chunk boundaries and stops at [DONE]', async () => {
    const out = await collect(['data: {"a":', '1}\n\n: comment\n\nevent: x\ndata: {"b":2}\r\n\r\n', 'data: [DONE]\n\n', 'data: {"after":true}\n\n']);
    expect(out).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('joins multi-line data and keeps a last event without its blank line', async () => {
    expect(await collect(['data: line1\ndata: line2\n\n', 'data: tail'])).toEqual(['line1\nline2', 'tail']);
  });

  it('keeps a character whose bytes are split between pieces, and drops a byte order mark opening the stream', async () => {
    const bytes = Buffer.from('\uFEFFdata: {"t":"héllo 👋"}\n\ndata: {"t":"é"}\n\n');
    const e = bytes.indexOf(Buffer.from('é'));
    const wave = bytes.indexOf(Buffer.from('👋'));
    // Cuts inside the BOM, inside "é" and inside the emoji; then a piece ending with a whole multi-byte character.
    const pieces = [bytes.subarray(0, 2), bytes.subarray(2, e + 1), bytes.subarray(e + 1, wave + 2), bytes.subarray(wave + 2)];
    expect(await collect(pieces)).toEqual(['{"t":"héllo 👋"}', '{"t":"é"}']);
    expect(await collect([Buffer.from('data: {"t":"fin é'), Buffer.from('"}\n\n')])).toEqual(['{"t":"fin é"}']);
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
