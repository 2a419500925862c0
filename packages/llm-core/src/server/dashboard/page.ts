// The dashboard's HTML shell. All live content is filled in by dashboard.js through textContent (never
// innerHTML), so engine ids and model names from the server cannot inject markup. Asset URLs are relative
// to /dashboard so the page also works behind a reverse proxy that mounts the control plane under a prefix.

export interface PageSettings {
  pollIntervalMs: number;
  windowSec: number;
}

const card = (id: string, title: string) => `
      <div class="card" id="${id}-card">
        <h2>${title}</h2>
        <p class="value" id="${id}-value">—</p>
        <p class="sub" id="${id}-sub"></p>
      </div>`;

const chartPanel = (id: string, title: string, hint: string, control = '') => `
      <figure class="panel chart-panel">
        <figcaption><h2 id="${id}-title">${title}</h2><span class="hint" id="${id}-hint">${hint}</span>${control}</figcaption>
        <div class="canvas-box"><canvas id="chart-${id}" role="img" aria-labelledby="${id}-title" aria-describedby="${id}-latest"></canvas></div>
        <p class="latest" id="${id}-latest">No data yet.</p>
      </figure>`;

export function renderPage(settings: PageSettings): string {
  const interval = Math.round(settings.pollIntervalMs);
  const windowSec = Math.round(settings.windowSec);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light">
  <link rel="icon" href="data:,">
  <title>sage · control plane dashboard</title>
  <link rel="stylesheet" href="dashboard/assets/dashboard.css">
  <script src="dashboard/assets/chart.umd.js" defer></script>
  <script src="dashboard/assets/dashboard.js" defer></script>
</head>
<body data-interval="${interval}" data-window="${windowSec}">
  <header class="top">
    <h1>sage <span class="muted">control plane</span></h1>
    <p id="conn" class="conn" role="status" data-state="connecting">Connecting…</p>
    <button id="forget-key" class="btn" type="button" hidden>Forget API key</button>
  </header>
  <main id="main">
    <div id="error-banner" class="banner" role="alert" hidden></div>
    <section id="auth" class="panel auth" aria-labelledby="auth-title" hidden>
      <h2 id="auth-title">API key required</h2>
      <p id="auth-message">This server requires an API key to read <code>/v1/metrics</code>. The key stays in this browser tab
        (sessionStorage) and is sent only to this server, as a Bearer token.</p>
      <form id="auth-form" autocomplete="off">
        <label for="auth-key">API key</label>
        <input id="auth-key" name="key" type="password" autocomplete="off" spellcheck="false" required>
        <button class="btn primary" type="submit">Use key</button>
      </form>
    </section>
    <section class="cards" aria-label="Summary">${card('status', 'Status')}${card('slo', 'SLO compliance')}${card('requests', 'Requests')}${card('throughput', 'Throughput')}${card('queue', 'Queue')}${card('policy', 'Scheduling')}
    </section>
    <section class="charts" aria-label="Charts">${chartPanel('latency', 'Latency percentiles', 'ms, last 60 s · solid E2E, dashed TTFT', '<label class="toggle"><input type="checkbox" id="latency-log"> log scale</label>')}${chartPanel('slo', 'SLO compliance', '% of requests with a deadline that met it')}${chartPanel('throughput', 'Throughput', 'completed, 60 s sliding window')}${chartPanel('queue', 'Queue and in-flight', 'requests')}
    </section>
    <section class="panel" aria-labelledby="engines-title">
      <h2 id="engines-title">Engines and instances</h2>
      <div class="table-wrap">
        <table id="engines">
          <caption class="sr-only">Engines launched by this control plane and the scheduling instances they serve as</caption>
          <thead>
            <tr>
              <th scope="col">Engine</th><th scope="col">Kind</th><th scope="col">Model</th><th scope="col">State</th>
              <th scope="col">Health</th><th scope="col">Circuit</th><th scope="col" class="num">Active</th>
              <th scope="col" class="num">Queued</th><th scope="col">KV cache</th><th scope="col" class="num">Latency (EWMA)</th>
              <th scope="col" class="num" title="Median absolute error of the latency estimate: end-to-end / first token">Estimate error</th>
              <th scope="col" class="num">Tokens/s</th><th scope="col" class="num">Restarts</th>
            </tr>
          </thead>
          <tbody><tr class="empty"><td colspan="12">Waiting for the first update…</td></tr></tbody>
        </table>
      </div>
    </section>
  </main>
  <footer class="foot">
    <p id="foot-text">Polls <code>/health</code> and <code>/v1/metrics</code> every ${interval / 1000} s and keeps the last ${windowSec} s in this tab.
      Override with <code>?interval=ms&amp;window=seconds</code>.</p>
  </footer>
</body>
</html>
`;
}
