// The live dashboard (F-307): GET /dashboard on a real control plane with sim engines, opened in headless
// Chromium (playwright-core) while chat and embedding traffic with priorities and deadlines flows through
// the official SDK; plus the plain HTTP contract of the page and its assets, and the API-key flow.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';
import OpenAI from 'openai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHarness, type Harness } from './harness';

const CHROMIUM = process.env.SAGE_CHROMIUM ?? '/usr/bin/chromium';
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const API_KEY = 'sk-dash-test-61c0e2b9';
const PRIORITIES = ['critical', 'high', 'normal', 'low', 'background'] as const;

/** What the test reads in the page; the spec tsconfig has no DOM lib, so the few globals used are typed here. */
interface PageGlobals {
  __sageDashboard?: {
    state: { connected: boolean | null; polls: number; metrics: unknown };
    charts: Record<string, { options: { scales: { y: { type?: string } } }; data: { datasets: Array<{ label: string; data: Array<{ x: number; y: number | null }> }> } }>;
    pointCount(chart: string, dataset?: number): number;
  };
  document: { querySelectorAll(selector: string): { length: number } };
  sessionStorage: { getItem(key: string): string | null };
}

let h: Harness;
let shotDir: string;

beforeAll(async () => {
  h = await startHarness();
  shotDir = mkdtempSync(path.join(tmpdir(), 'sage-dashboard-'));
});
afterAll(async () => {
  await h?.stop();
  if (shotDir) rmSync(shotDir, { recursive: true, force: true });
});

/** One round of traffic: a chat (every other one streamed, so TTFT is measured) and an embedding, each with a priority and a deadline. */
async function trafficRound(client: OpenAI, i: number): Promise<void> {
  const headers = { 'x-sage-priority': PRIORITIES[i % PRIORITIES.length]!, 'x-sage-slo-ms': String(i % 3 === 0 ? 2000 : 10_000) };
  const chat = async () => {
    const body = { model: 'sage-sim-llm', messages: [{ role: 'user' as const, content: `status report ${i}` }], max_tokens: 8 };
    if (i % 2 === 0) {
      const stream = await client.chat.completions.create({ ...body, stream: true }, { headers });
      for await (const chunk of stream) void chunk;
    } else {
      const res = await client.chat.completions.create(body, { headers });
      expect(res.choices[0]?.message.content).toBeTruthy();
    }
  };
  const embed = async () => {
    const res = await client.embeddings.create({ model: 'sage-sim-embedding', input: [`doc ${i}`, 'another'] }, { headers: { 'x-sage-priority': 'low', 'x-sage-slo-ms': '5000' } });
    expect(res.data).toHaveLength(2);
  };
  await Promise.all([chat(), embed()]);
}

describe('HTTP', () => {
  it('serves the page as HTML with a strict content security policy, without auth', async () => {
    const res = await fetch(`${h.cp.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    for (const id of ['chart-latency', 'chart-slo', 'chart-throughput', 'chart-queue', 'engines']) expect(html).toContain(`id="${id}"`);
    expect(html).toContain('src="dashboard/assets/chart.umd.js"');
  });

  it('serves Chart.js, the page script and the stylesheet with their content types', async () => {
    const chart = await fetch(`${h.cp.url}/dashboard/assets/chart.umd.js`);
    expect(chart.status).toBe(200);
    expect(chart.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await chart.text()).toMatch(/Chart\.js v4\./);

    const js = await fetch(`${h.cp.url}/dashboard/assets/dashboard.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    const source = await js.text();
    expect(() => new Script(source, { filename: 'dashboard.js' })).not.toThrow();
    expect(source).toContain('/v1/metrics');
    // Served from disk as written (a linted, type-checked file), not from a copy in a string.
    expect(source).toBe(readFileSync(path.join(__dirname, '..', '..', 'src', 'server', 'dashboard', 'assets', 'dashboard.js'), 'utf8'));

    const css = await fetch(`${h.cp.url}/dashboard/assets/dashboard.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toContain('.charts');
  });

  it('redirects /dashboard/ relatively and answers unknown assets in OpenAI error shape', async () => {
    const slash = await fetch(`${h.cp.url}/dashboard/`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(slash.headers.get('location')).toBe('../dashboard');
    const missing = await fetch(`${h.cp.url}/dashboard/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('route_not_found');
  });
});

describe('in Chromium', () => {
  let browser: Browser;
  let auth: Harness | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: the dashboard's browser test needs it. Install it with \`apt-get install chromium\` (\`npm test\` does it through tools/ensure-chromium.sh), or set SAGE_CHROMIUM to a Chromium binary.`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await auth?.stop();
  });

  // The page's test hook (window.__sageDashboard). Functions, not strings, go to the page: its CSP forbids eval.
  const pointCount = (page: Page, chart: string, dataset: number) =>
    page.evaluate(([c, i]) => (globalThis as unknown as PageGlobals).__sageDashboard?.pointCount(c, i) ?? 0, [chart, dataset] as const);
  const hookState = (page: Page) =>
    page.evaluate(() => {
      const s = (globalThis as unknown as PageGlobals).__sageDashboard!.state;
      return { connected: s.connected, polls: s.polls };
    });

  /** The newest E2E p99 point drawn, next to the recent-window p99 of the /v1/metrics answer it came from. */
  const latestPlotted = (page: Page) =>
    page.evaluate(() => {
      const d = (globalThis as unknown as PageGlobals).__sageDashboard!;
      const points = d.charts.latency!.data.datasets[2]!.data;
      const m = d.state.metrics as { recent: { latency: { e2eMs: { p99: number } } } };
      return { p99: points[points.length - 1]?.y ?? null, recentP99: m.recent.latency.e2eMs.p99 };
    });

  /** A page at 1280×800 that records script errors, failed loads and CSP violations. */
  async function openPage(url: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    return { page, problems };
  }

  it('draws live engines, latency, SLO compliance and throughput from real traffic', async () => {
    const client = new OpenAI({ baseURL: h.baseURL, apiKey: 'unused', maxRetries: 0 });
    for (let i = 0; i < 4; i++) await trafficRound(client, i);

    const { page, problems } = await openPage(`${h.cp.url}/dashboard?interval=250`);
    // Traffic keeps flowing while the page polls, so consecutive samples differ.
    let stop = false;
    const background = (async () => {
      for (let i = 4; !stop; i++) await trafficRound(client, i);
    })();
    try {
      await page.waitForFunction(
        () => {
          const g = globalThis as unknown as PageGlobals;
          const d = g.__sageDashboard;
          return !!d && d.pointCount('latency', 0) >= 2 && d.pointCount('throughput', 0) >= 2 && d.pointCount('slo', 1) >= 2 && g.document.querySelectorAll('#engines tr[data-engine-id]').length >= 2;
        },
        null,
        { timeout: 15_000, polling: 100 },
      );
    } finally {
      stop = true;
      await background;
    }

    const rows = await page.locator('#engines tr[data-engine-id]').evaluateAll((trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-engine-id'),
        state: tr.querySelector('[data-col="state"]')?.textContent,
        health: tr.querySelector('[data-col="health"]')?.textContent,
        circuit: tr.querySelector('[data-col="circuit"]')?.textContent,
      })),
    );
    const view = {
      rows,
      connected: (await hookState(page)).connected,
      conn: await page.locator('#conn').getAttribute('data-state'),
      latencyP50: await pointCount(page, 'latency', 0),
      ttftP50: await pointCount(page, 'latency', 3),
      slo: await page.locator('#slo-value').textContent(),
      sloSub: await page.locator('#slo-sub').textContent(),
      status: await page.locator('#status-value').textContent(),
      latencyText: await page.locator('#latency-latest').textContent(),
      latencyHint: await page.locator('#latency-hint').textContent(),
    };
    expect(view.rows).toEqual(
      expect.arrayContaining([
        { id: 'default-llm', state: 'RUNNING', health: 'healthy', circuit: 'closed' },
        { id: 'default-embedding', state: 'RUNNING', health: 'healthy', circuit: 'closed' },
      ]),
    );
    expect(view).toMatchObject({ connected: true, conn: 'live', status: 'ok' });
    expect(view.latencyP50).toBeGreaterThanOrEqual(2);
    expect(view.ttftP50).toBeGreaterThanOrEqual(2);
    expect(view.slo).toMatch(/^\d{1,3}(\.\d)? %$/);
    expect(view.sloSub).toMatch(/^\d+ of \d+ met since start$/);
    expect(view.latencyText).toMatch(/^Last 60 s: E2E p50 [\d.]+ (ms|s).*Since start: E2E p99 [\d.]+ (ms|s)\.$/);
    expect(view.latencyHint).toBe('ms, last 60 s · solid E2E, dashed TTFT');
    // The lines are the server's recent-window percentiles (metrics.recent), not the cumulative ones.
    const plotted = await latestPlotted(page);
    expect(plotted.p99).not.toBeNull();
    expect(plotted.p99).toBe(plotted.recentP99);
    expect(problems).toEqual([]);

    // The log-scale toggle switches the latency axis.
    await page.getByLabel('log scale').check();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__sageDashboard?.charts.latency?.options.scales.y.type)).toBe('logarithmic');
    await page.getByLabel('log scale').uncheck();

    const shot = path.join(shotDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    await page.close();
  });

  it('plots the recent window, so a slow past that only the cumulative figures still hold does not show', async () => {
    // The page is served by the real control plane; its /v1/metrics answers are rewritten so the cumulative
    // latencies carry a slow burst (5 s) and the recent window holds only fast requests (40 ms).
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const slow = { count: 500, min: 30, mean: 900, p50: 45, p95: 5000, p99: 5000, max: 5000 };
    const fast = { count: 100, min: 30, mean: 35, p50: 35, p95: 40, p99: 40, max: 41 };
    await page.route('**/v1/metrics', async (route) => {
      const res = await route.fetch();
      const m = (await res.json()) as { latency: Record<string, unknown>; recent: { windowMs: number; latency: Record<string, unknown> } };
      m.latency = { ...m.latency, e2eMs: slow, ttftMs: slow, queueWaitMs: slow };
      m.recent = { ...m.recent, windowMs: 120_000, latency: { ...m.recent.latency, e2eMs: fast, ttftMs: fast, queueWaitMs: fast } };
      await route.fulfill({ response: res, json: m });
    });
    try {
      await page.goto(`${h.cp.url}/dashboard?interval=250`);
      await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).__sageDashboard?.pointCount('latency', 2) ?? 0) >= 2, null, { timeout: 10_000, polling: 100 });
      const plotted = await page.evaluate(() => {
        const L = (globalThis as unknown as PageGlobals).__sageDashboard!.charts.latency!.data.datasets;
        return L.map((d) => ({ label: d.label, ys: d.data.map((p) => p.y) }));
      });
      for (const series of plotted) expect(series.ys.every((y) => y === null || y <= 40)).toBe(true);
      expect(plotted[2]!.ys).toContain(40);
      expect(await page.locator('#latency-hint').textContent()).toBe('ms, last 2 min · solid E2E, dashed TTFT');
      expect(await page.locator('#latency-latest').textContent()).toBe(
        'Last 2 min: E2E p50 35 ms, p95 40 ms, p99 40 ms; TTFT p50 35 ms, p95 40 ms, p99 40 ms. Since start: E2E p99 5.00 s.',
      );
      expect(await page.locator('#queue-sub').textContent()).toMatch(/ · p95 wait 40 ms \(last 2 min\)$/);
      expect(await page.locator('#throughput-hint').textContent()).toBe('completed, 2 min sliding window');
    } finally {
      await page.close();
    }
  });

  it('asks for an API key when /v1/metrics needs one, sends it as Bearer, and shows "disconnected" when the server goes away', async () => {
    auth = await startHarness({ preset: false, auth: { apiKeys: [API_KEY] } });
    const { page, problems } = await openPage(`${auth.cp.url}/dashboard?interval=250`);
    const sentKeys: Array<string | undefined> = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/metrics')) sentKeys.push(r.headers().authorization);
    });

    await page.locator('#auth').waitFor({ state: 'visible', timeout: 5000 });
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('auth');
    await page.getByLabel('API key', { exact: true }).fill(API_KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__sageDashboard?.state.metrics !== null, null, { timeout: 5000 });
    expect(await page.locator('#auth').isHidden()).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('sage.dashboard.apiKey'))).toBe(API_KEY);
    expect(sentKeys).toContain(`Bearer ${API_KEY}`);
    expect(await page.locator('#engines tbody').textContent()).toContain('No engines or instances registered.');

    // Before the stop, only the 401s from before the key was entered are expected console noise.
    expect(problems.filter((p) => !/401/.test(p))).toEqual([]);
    const seenBeforeStop = problems.length;

    const stopping = auth;
    auth = undefined;
    await stopping.stop();
    await page.locator('#conn[data-state="disconnected"]').waitFor({ timeout: 8000 });
    expect(await page.locator('#conn').textContent()).toMatch(/^Disconnected \(.+\) · retrying every 0\.25 s$/);
    // Keeps polling while disconnected.
    const { polls } = await hookState(page);
    await page.waitForFunction((p) => ((globalThis as unknown as PageGlobals).__sageDashboard?.state.polls ?? 0) > p + 1, polls, { timeout: 5000 });
    // While the server closes it answers 503, then refuses connections: expected; nothing else may appear.
    expect(problems.slice(seenBeforeStop).filter((p) => !/503|ERR_CONNECTION_REFUSED|Failed to fetch/.test(p))).toEqual([]);
    await page.close();
  });
});
