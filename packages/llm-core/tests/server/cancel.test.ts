// A client that goes away mid-stream, or before a non-streamed answer, frees its engine slot (issue 6): the control
// plane aborts upstream.
import OpenAI from 'openai';
import { startHarness, getJson, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  // Real-time engine (time scale 1): a 400-token answer takes many seconds, so the cancel lands mid-stream.
  h = await startHarness({ runtime: { simTimeScale: 1 } });
});
afterAll(async () => {
  await h?.stop();
});

async function metrics() {
  return (await (await fetch(`${h.cp.url}/v1/metrics`)).json()) as { running: number; instances_live: Array<{ id: string; load: { activeRequests: number } }> };
}

async function engineRunning(): Promise<number> {
  const engines = (await getJson(`${h.cp.url}/v1/management/engines`)).engines as Array<{ id: string; port: number }>;
  const llm = engines.find((e) => e.id === 'default-llm')!;
  const text = await (await fetch(`http://127.0.0.1:${llm.port}/metrics`)).text();
  const m = /^vllm:num_requests_running(?:\{[^}]*\})? ([0-9.]+)/m.exec(text);
  return Number(m?.[1] ?? NaN);
}

async function waitFor(pred: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

it('a stream cancelled by the client frees its slot in the control plane and in the engine', async () => {
  const client = new OpenAI({ baseURL: h.baseURL, apiKey: 'x', maxRetries: 0 });
  const ac = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'sage-sim-llm', messages: [{ role: 'user', content: 'Write a long story.' }], max_tokens: 400, stream: true },
    { signal: ac.signal },
  );
  let chunks = 0;
  let afterAbort = 0;
  // Chunks the SDK had already buffered while the metrics were read may still be yielded after the
  // abort; what matters is that the stream ends at once instead of running to 400 tokens.
  try {
    for await (const _chunk of stream) {
      if (ac.signal.aborted) {
        afterAbort++;
        continue;
      }
      if (++chunks === 3) {
        const during = await metrics();
        expect(during.running).toBe(1);
        expect(during.instances_live.find((i) => i.id === 'default-llm')!.load.activeRequests).toBe(1);
        expect(await engineRunning()).toBe(1);
        ac.abort();
      }
    }
  } catch (err) {
    expect((err as Error).name).toMatch(/Abort/);
  }
  expect(chunks).toBe(3);
  expect(afterAbort).toBeLessThan(20);
  expect(await waitFor(async () => (await metrics()).running === 0)).toBe(true);
  const after = await metrics();
  expect(after.instances_live.find((i) => i.id === 'default-llm')!.load.activeRequests).toBe(0);
  expect(await waitFor(async () => (await engineRunning()) === 0)).toBe(true);
});

it('a non-streaming request whose client goes away frees its slot in the control plane and in the engine', async () => {
  const client = new OpenAI({ baseURL: h.baseURL, apiKey: 'x', maxRetries: 0 });
  const ac = new AbortController();
  const answer = client.chat.completions.create({ model: 'sage-sim-llm', messages: [{ role: 'user', content: 'Write a long story.' }], max_tokens: 400 }, { signal: ac.signal });
  const settled = answer.then(
    () => 'answered',
    (err: Error) => `${err.constructor.name}: ${err.message}`,
  );
  // Running in the control plane and in the engine (400 tokens in real time: many seconds), then the caller leaves.
  expect(await waitFor(async () => (await metrics()).running === 1 && (await engineRunning()) === 1)).toBe(true);
  ac.abort();
  expect(await settled).toMatch(/Abort/);
  expect(await waitFor(async () => (await metrics()).running === 0)).toBe(true);
  expect((await metrics()).instances_live.find((i) => i.id === 'default-llm')!.load.activeRequests).toBe(0);
  expect(await waitFor(async () => (await engineRunning()) === 0)).toBe(true);
});
