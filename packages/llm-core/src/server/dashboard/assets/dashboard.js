// @ts-check
// The dashboard's browser script, served from this file as /dashboard/assets/dashboard.js. Plain ES2020 with JSDoc
// types, no framework and no build step: it polls /health and /v1/metrics, keeps a rolling window of samples in the
// tab, and draws them with Chart.js (loaded before it). ESLint checks it with browser globals and
// tsconfig.dashboard.json type-checks it (DOM lib, the server's metrics types). Tests read its state through
// window.__sageDashboard.

/**
 * What GET /v1/metrics and GET /health send (the server's own types where it has them).
 * @typedef {import('../../../control-plane/metrics/collector').MetricsSnapshot} MetricsSnapshot
 * @typedef {import('../../../control-plane/metrics/collector').LatencySet} LatencySet
 * @typedef {import('../../../control-plane/metrics/latency-histogram').LatencySummary} LatencySummary
 * @typedef {import('../../../control-plane/types').InstanceLoad} InstanceLoad
 * @typedef {import('../../../control-plane/types').PriorityName} PriorityName
 * @typedef {{ id: string, type?: string, models?: string[], health: string, circuit?: string, drained?: string, load?: InstanceLoad }} InstanceView
 * @typedef {{ id: string, state: string, model: string, kind: string, restarts: number }} EngineView
 * @typedef {{ status: string, uptimeSec: number, policy?: string, router?: string, queueLength: number, instances?: InstanceView[], engines?: EngineView[] }} Health
 * @typedef {import('../../../control-plane/estimator').AccuracySummary} AccuracySummary
 * @typedef {MetricsSnapshot & { queueLength: number, running: number, instances_live?: InstanceView[], estimator?: Record<string, AccuracySummary> }} Metrics
 *
 * What the tab keeps: one sample per poll (a gap when the server did not answer).
 * @typedef {{ p50: number, p95: number, p99: number }} Percentiles
 * @typedef {{ met: number, n: number }} SloCount
 * @typedef {{ overall: SloCount, byPriority: Partial<Record<PriorityName, SloCount>> }} SloCounts
 * @typedef {{
 *   t: number, gap: boolean, e2e: Percentiles | null, ttft: Percentiles | null, e2eP99Total: number | null,
 *   rps: number | null, tps: number | null, queue: number | null, running: number | null, active: number | null,
 *   slo: SloCounts | null, total: number | null, uptimeMs: number | null
 * }} Sample
 * @typedef {(sample: Sample) => number | null | undefined} SamplePick
 * @typedef {(slo: SloCounts) => SloCount | undefined} SloPick
 *
 * Charts (Chart.js, parsing off: every point is {x: time in ms, y}).
 * @typedef {{ x: number, y: number | null }} Point
 * @typedef {import('chart.js').Chart<'line', Point[]>} LineChart
 * @typedef {import('chart.js').ChartDataset<'line', Point[]>} LineDataset
 * @typedef {NonNullable<import('chart.js').ChartOptions<'line'>['scales']>} LineScales
 * The y-axis settings the dashboard changes once a chart is made (a linear axis that may turn logarithmic).
 * @typedef {{ type?: 'linear' | 'logarithmic', min?: number, max?: number, beginAtZero?: boolean, ticks?: object }} ValueScale
 */

(function () {
  'use strict';

  /** @type {PriorityName[]} */
  var PRIORITIES = ['CRITICAL', 'HIGH', 'NORMAL', 'LOW', 'BACKGROUND'];
  /** @type {Record<PriorityName, string>} */
  var PRIORITY_COLORS = { CRITICAL: '#7a1fa2', HIGH: '#d55e00', NORMAL: '#0072b2', LOW: '#009e73', BACKGROUND: '#8c8c8c' };
  var KEY_STORAGE = 'sage.dashboard.apiKey';
  // SLO compliance "now" is computed from count deltas over this span; the server's own figure is since start.
  var SLO_SPAN_MS = 30000;
  var FETCH_TIMEOUT_MS = 5000;

  /** The page's globals: Chart.js's UMD build (absent when it failed to load) and the handle tests read. */
  var page = /** @type {Window & { Chart?: typeof import('chart.js').Chart, __sageDashboard?: unknown }} */ (window);
  var body = document.body;
  var params = new URLSearchParams(location.search);
  /**
   * @param {string | null | undefined} raw
   * @param {number} lo
   * @param {number} hi
   * @param {number} fallback
   */
  function clampNumber(raw, lo, hi, fallback) {
    var n = Number(raw);
    if (raw === null || raw === undefined || raw === '' || !isFinite(n)) return fallback;
    return Math.min(hi, Math.max(lo, n));
  }
  var intervalMs = clampNumber(params.get('interval'), 250, 60000, clampNumber(body.dataset.interval, 250, 60000, 1000));
  var windowMs = 1000 * clampNumber(params.get('window'), 10, 86400, clampNumber(body.dataset.window, 10, 86400, 300));
  // Everything is fetched relative to where the page is mounted (e.g. /prefix/dashboard -> /prefix/v1/metrics).
  var base = location.pathname.replace(/\/dashboard\/?$/, '');

  /**
   * An element the page always has (page.ts); a missing one is a bug worth failing loudly on.
   * @param {string} id
   * @returns {HTMLElement}
   */
  var $ = function (id) {
    var el = document.getElementById(id);
    if (!el) throw new Error('dashboard: the page has no #' + id);
    return el;
  };
  /** @param {string} id */
  var input = function (id) { return /** @type {HTMLInputElement} */ ($(id)); };

  var state = {
    /** @type {Sample[]} */
    samples: [],
    /** @type {boolean | null} */
    connected: null,
    authRequired: false,
    polls: 0,
    failures: 0,
    /** @type {string | null} */
    lastError: null,
    /** @type {number | null} */
    lastUpdate: null,
    /** @type {Health | null} */
    health: null,
    /** @type {Metrics | null} */
    metrics: null
  };

  // ---------- formatting ----------
  /** @param {number | null | undefined} v */
  function fmtMs(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    if (v >= 1000) return (v / 1000).toFixed(2) + ' s';
    if (v >= 10) return Math.round(v) + ' ms';
    return v.toFixed(1) + ' ms';
  }
  /** @param {number | null | undefined} v */
  function fmtRate(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    return v >= 100 ? String(Math.round(v)) : v.toFixed(v >= 10 ? 1 : 2);
  }
  /** @param {number | null | undefined} ratio */
  function fmtPct(ratio) {
    if (ratio === null || ratio === undefined || !isFinite(ratio)) return '—';
    var p = ratio * 100;
    return (p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + ' %';
  }
  /** @param {number} n */
  function pad2(n) { return n < 10 ? '0' + n : String(n); }
  /** @param {number} t */
  function fmtClock(t) {
    var d = new Date(t);
    return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }
  /** @param {number} sec */
  function fmtDuration(sec) {
    if (!isFinite(sec)) return '—';
    var h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = Math.floor(sec % 60);
    return h > 0 ? h + ' h ' + m + ' min' : m > 0 ? m + ' min ' + s + ' s' : s + ' s';
  }
  /** @param {number} ms */
  function fmtSpan(ms) {
    var sec = Math.round(ms / 1000);
    return sec >= 120 && sec % 60 === 0 ? sec / 60 + ' min' : sec + ' s';
  }
  /**
   * @param {string} id
   * @param {string} text
   */
  function setText(id, text) { var el = $(id); if (el.textContent !== text) el.textContent = text; }
  /**
   * @param {string} id
   * @param {'ok' | 'warn' | 'bad' | null} tone
   */
  function setTone(id, tone) {
    var el = $(id);
    el.classList.remove('ok', 'warn', 'bad');
    if (tone) el.classList.add(tone);
  }

  // ---------- API key ----------
  function storedKey() {
    try { return sessionStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
  }
  /** @param {string | null} message */
  function showAuth(message) {
    state.authRequired = true;
    $('auth').hidden = false;
    var msg = $('auth-message');
    if (message) { msg.textContent = message; msg.classList.add('error'); }
    $('forget-key').hidden = !storedKey();
  }
  $('auth-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = input('auth-key').value.trim();
    if (!key) return;
    try { sessionStorage.setItem(KEY_STORAGE, key); } catch { /* private mode: the key lives for this poll only */ }
    input('auth-key').value = '';
    $('auth').hidden = true;
    $('auth-message').classList.remove('error');
    $('forget-key').hidden = false;
    state.authRequired = false;
    pollSoon(0);
  });
  $('forget-key').addEventListener('click', function () {
    try { sessionStorage.removeItem(KEY_STORAGE); } catch { /* nothing stored */ }
    $('forget-key').hidden = true;
    pollSoon(0);
  });

  // ---------- fetching ----------
  /**
   * @param {string} path
   * @param {boolean} withKey
   * @returns {Promise<{ status: number, json: unknown }>}
   */
  function getJson(path, withKey) {
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, FETCH_TIMEOUT_MS);
    /** @type {Record<string, string>} */
    var headers = { accept: 'application/json' };
    var key = withKey ? storedKey() : '';
    if (key) headers.authorization = 'Bearer ' + key;
    return fetch(base + path, { headers: headers, signal: ctrl.signal, cache: 'no-store' })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (json) {
          return { status: res.status, json: json };
        });
      })
      .finally(function () { clearTimeout(timer); });
  }

  // ---------- samples ----------
  /**
   * @param {LatencySummary | undefined} s
   * @returns {Percentiles | null}
   */
  function summary(s) {
    return s && s.count > 0 ? { p50: s.p50, p95: s.p95, p99: s.p99 } : null;
  }
  // Latencies over the server's recent window when it reports one, else since start; label says which.
  /**
   * @param {Metrics} m
   * @returns {{ latency: LatencySet, label: string }}
   */
  function latencySource(m) {
    if (m.recent && m.recent.latency) return { latency: m.recent.latency, label: 'last ' + fmtSpan(m.recent.windowMs) };
    return { latency: m.latency, label: 'since start' };
  }
  /**
   * @param {number} t
   * @param {boolean} gap
   * @returns {Sample}
   */
  function emptySample(t, gap) {
    return { t: t, gap: gap, e2e: null, ttft: null, e2eP99Total: null, rps: null, tps: null, queue: null, running: null, active: null, slo: null, total: null, uptimeMs: null };
  }
  /**
   * @param {number} t
   * @param {Metrics | null} m
   * @param {Health | null} h
   * @returns {Sample}
   */
  function toSample(t, m, h) {
    var sample = emptySample(t, false);
    if (h) sample.queue = h.queueLength;
    if (m) {
      // The chart plots the server's recent window, so a past burst ages out; a server without one gives since-start figures.
      var lat = latencySource(m).latency;
      sample.e2e = summary(lat && lat.e2eMs);
      sample.ttft = summary(lat && lat.ttftMs);
      var total = summary(m.latency && m.latency.e2eMs);
      sample.e2eP99Total = total ? total.p99 : null;
      sample.rps = m.throughput ? m.throughput.requestsPerSec : null;
      sample.tps = m.throughput ? m.throughput.tokensPerSec : null;
      sample.queue = m.queueLength;
      sample.running = m.running;
      sample.active = (m.instances_live || []).reduce(/** @param {number} a @param {InstanceView} i */ function (a, i) { return a + ((i.load && i.load.activeRequests) || 0); }, 0);
      sample.total = m.requests ? m.requests.total : null;
      sample.uptimeMs = m.uptimeMs;
      if (m.slo) {
        var slo = m.slo;
        /** @type {SloCounts} */
        var counts = { overall: { met: slo.overall.met, n: slo.overall.withDeadline }, byPriority: {} };
        PRIORITIES.forEach(function (p) {
          var c = slo.byPriority && slo.byPriority[p];
          if (c) counts.byPriority[p] = { met: c.met, n: c.withDeadline };
        });
        sample.slo = counts;
      }
    }
    return sample;
  }
  /** @param {Sample} sample */
  function addSample(sample) {
    var s = state.samples;
    var prev = null;
    for (var i = s.length - 1; i >= 0; i--) if (!s[i].gap && s[i].total !== null) { prev = s[i]; break; }
    // The server restarted or its metrics were reset: earlier samples no longer compare.
    if (prev && prev.total !== null && sample.total !== null && (sample.total < prev.total || (sample.uptimeMs !== null && prev.uptimeMs !== null && sample.uptimeMs < prev.uptimeMs))) s.length = 0;
    s.push(sample);
    var cutoff = sample.t - windowMs;
    while (s.length > 0 && s[0].t < cutoff) s.shift();
  }
  // met/withDeadline over the last SLO_SPAN_MS, from the cumulative counts; null when no request had a deadline.
  /**
   * @param {number} i
   * @param {SloPick} pick
   * @returns {number | null}
   */
  function recentCompliance(i, pick) {
    var s = state.samples, cur = s[i], curC = cur.slo && pick(cur.slo);
    if (!curC) return null;
    var baseC = null;
    for (var j = i - 1; j >= 0; j--) {
      var slo = s[j].slo;
      if (s[j].gap || !slo) continue;
      var c = pick(slo);
      if (!c) continue;
      baseC = c;
      if (s[j].t <= cur.t - SLO_SPAN_MS) break;
    }
    if (!baseC) baseC = { met: 0, n: 0 };
    var n = curC.n - baseC.n;
    return n > 0 ? (100 * (curC.met - baseC.met)) / n : null;
  }

  // ---------- charts ----------
  /** @type {Record<string, LineChart>} */
  var charts = {};
  var ChartJs = page.Chart;
  var hasChart = typeof ChartJs === 'function';
  /**
   * @param {string} label
   * @param {string} color
   * @param {Partial<LineDataset>} [extra]
   * @returns {LineDataset}
   */
  function dataset(label, color, extra) {
    // Dots help while there are few samples; over a long window they only add noise (scriptable, so re-read each draw).
    /** @type {LineDataset} */
    var d = { label: label, data: [], borderColor: color, backgroundColor: color, borderWidth: 2, pointHoverRadius: 4, spanGaps: false,
      pointRadius: function () { return state.samples.length > 60 ? 0 : 1.5; } };
    if (extra) Object.assign(d, extra);
    return d;
  }
  /**
   * The value (y) axis of a chart, to adjust after it is made.
   * @param {LineChart} chart
   * @returns {ValueScale}
   */
  function yAxis(chart) {
    var y = chart.options.scales && chart.options.scales.y;
    if (!y) throw new Error('dashboard: a chart without a y axis');
    return /** @type {ValueScale} */ (y);
  }
  /**
   * @param {typeof import('chart.js').Chart} Chart
   * @param {string} id
   * @param {LineDataset[]} datasets
   * @param {string} yTitle
   * @param {LineScales} [extraScales]
   * @returns {LineChart}
   */
  function makeChart(Chart, id, datasets, yTitle, extraScales) {
    /** @type {LineScales} */
    var scales = {
      x: { type: 'linear', ticks: { callback: function (v) { return fmtClock(Number(v)); }, maxTicksLimit: 6, maxRotation: 0 }, grid: { color: '#eef1f5' } },
      y: { beginAtZero: true, title: { display: true, text: yTitle }, grid: { color: '#eef1f5' } }
    };
    if (extraScales) Object.assign(scales, extraScales);
    /** @type {import('chart.js').ChartConfiguration<'line', Point[]>} */
    var config = {
      type: 'line',
      data: { datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: scales,
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 14, boxHeight: 2, font: { size: 11 } } },
          tooltip: { callbacks: { title: function (items) { return items.length ? fmtClock(Number(items[0].parsed.x)) : ''; } } }
        }
      }
    };
    return new Chart(/** @type {HTMLCanvasElement} */ ($('chart-' + id)), config);
  }
  if (ChartJs) {
    ChartJs.defaults.font.family = getComputedStyle(body).fontFamily;
    ChartJs.defaults.color = '#3d4957';
    charts.latency = makeChart(ChartJs, 'latency', [
      dataset('E2E p50', '#0072b2'), dataset('E2E p95', '#e69f00'), dataset('E2E p99', '#d55e00'),
      dataset('TTFT p50', '#0072b2', { borderDash: [5, 4], borderWidth: 1.5 }),
      dataset('TTFT p95', '#e69f00', { borderDash: [5, 4], borderWidth: 1.5 }),
      dataset('TTFT p99', '#d55e00', { borderDash: [5, 4], borderWidth: 1.5 })
    ], 'ms');
    charts.slo = makeChart(ChartJs, 'slo', [
      dataset('overall, last 30 s', '#1a2230', { borderWidth: 2.5 }),
      dataset('overall, since start', '#1a2230', { borderDash: [3, 3], borderWidth: 1.5, pointRadius: 0 })
    ], '%');
    var sloY = yAxis(charts.slo);
    sloY.max = 100;
    sloY.beginAtZero = false;
    sloY.ticks = { callback: /** @param {number | string} v */ function (v) { return v + ' %'; } };
    charts.throughput = makeChart(ChartJs, 'throughput', [
      dataset('requests/s', '#0072b2', { yAxisID: 'y' }),
      dataset('tokens/s', '#009e73', { yAxisID: 'y1' })
    ], 'requests/s', { y1: { position: 'right', beginAtZero: true, title: { display: true, text: 'tokens/s' }, grid: { drawOnChartArea: false } } });
    charts.queue = makeChart(ChartJs, 'queue', [
      dataset('queued in control plane', '#d55e00', { stepped: true }),
      dataset('dispatched (running)', '#0072b2', { stepped: true }),
      dataset('active on engines', '#009e73', { stepped: true, borderDash: [5, 4] })
    ], 'requests');
    yAxis(charts.queue).ticks = { precision: 0 };
  } else {
    showError('Chart.js did not load (GET dashboard/assets/chart.umd.js failed); charts are unavailable, the table still updates.');
  }
  /** @type {Partial<Record<PriorityName, number>>} */
  var sloPriorityIndex = {};
  var latencyLog = false;
  input('latency-log').addEventListener('change', function () {
    latencyLog = input('latency-log').checked;
    if (!hasChart) return;
    var y = yAxis(charts.latency);
    y.type = latencyLog ? 'logarithmic' : 'linear';
    y.beginAtZero = !latencyLog;
    updateCharts();
  });

  /**
   * @param {SamplePick} pick
   * @returns {Point[]}
   */
  function points(pick) {
    return state.samples.map(function (s) {
      var v = s.gap ? null : pick(s);
      return { x: s.t, y: v === undefined ? null : v };
    });
  }
  function updateCharts() {
    var s = state.samples;
    var now = s.length ? s[s.length - 1].t : Date.now();
    var from = s.length ? Math.max(s[0].t, now - windowMs) : now - windowMs;
    /**
     * @param {'e2e' | 'ttft'} kind
     * @param {keyof Percentiles} q
     * @returns {SamplePick}
     */
    var lat = function (kind, q) { return function (x) { var p = x[kind]; return p ? p[q] : null; }; };
    /**
     * @param {SloPick} pick
     * @returns {Point[]}
     */
    var sloRecent = function (pick) {
      return s.map(function (x, i) { return { x: x.t, y: x.gap ? null : recentCompliance(i, pick) }; });
    };
    /** @type {SloPick} */
    var overallPick = function (slo) { return slo.overall; };
    /** @type {(x: Sample) => number | null} */
    var cumulative = function (x) { return x.slo && x.slo.overall.n > 0 ? (100 * x.slo.overall.met) / x.slo.overall.n : null; };

    var latest = s.length ? s[s.length - 1] : null;
    /** @type {Sample | null} */
    var lastLive = null;
    for (var k = s.length - 1; k >= 0; k--) if (!s[k].gap) { lastLive = s[k]; break; }
    var span = state.metrics ? latencySource(state.metrics).label : 'last 60 s';
    var sinceStart = lastLive && lastLive.e2eP99Total !== null && span !== 'since start' ? ' Since start: E2E p99 ' + fmtMs(lastLive.e2eP99Total) + '.' : '';
    setText('latency-latest', lastLive && lastLive.e2e
      ? span.charAt(0).toUpperCase() + span.slice(1) + ': E2E p50 ' + fmtMs(lastLive.e2e.p50) + ', p95 ' + fmtMs(lastLive.e2e.p95) + ', p99 ' + fmtMs(lastLive.e2e.p99) +
        (lastLive.ttft ? '; TTFT p50 ' + fmtMs(lastLive.ttft.p50) + ', p95 ' + fmtMs(lastLive.ttft.p95) + ', p99 ' + fmtMs(lastLive.ttft.p99) : '') + '.' + sinceStart
      : lastLive && lastLive.e2eP99Total !== null ? 'No requests completed in the ' + span + '.' + sinceStart : 'No completed requests yet.');
    var recentNow = s.length ? recentCompliance(s.length - 1, overallPick) : null;
    var cumNow = lastLive ? cumulative(lastLive) : null;
    setText('slo-latest', cumNow === null ? 'No request with a deadline yet.'
      : 'Latest: ' + (recentNow === null ? 'no deadline requests in the last 30 s' : Math.round(recentNow * 10) / 10 + ' % over the last 30 s') +
        ', ' + Math.round(cumNow * 10) / 10 + ' % since start.');
    setText('throughput-latest', lastLive && lastLive.rps !== null ? 'Latest: ' + fmtRate(lastLive.rps) + ' requests/s, ' + fmtRate(lastLive.tps) + ' tokens/s.' : 'No data yet.');
    setText('queue-latest', lastLive && lastLive.queue !== null ? 'Latest: ' + lastLive.queue + ' queued, ' + (lastLive.running === null ? '—' : lastLive.running) + ' dispatched, ' + (lastLive.active === null ? '—' : lastLive.active) + ' active on engines.' : 'No data yet.');
    if (!hasChart) return;

    var L = charts.latency.data.datasets;
    // A log axis cannot place zero: such points become gaps there.
    /**
     * @param {SamplePick} pick
     * @returns {SamplePick}
     */
    var positive = function (pick) { return latencyLog ? function (x) { var v = pick(x); return typeof v === 'number' && v > 0 ? v : null; } : pick; };
    /** @type {(keyof Percentiles)[]} */ (['p50', 'p95', 'p99']).forEach(function (q, i) { L[i].data = points(positive(lat('e2e', q))); L[i + 3].data = points(positive(lat('ttft', q))); });

    var S = charts.slo.data.datasets;
    S[0].data = sloRecent(overallPick);
    S[1].data = points(cumulative);
    PRIORITIES.forEach(function (p) {
      /** @type {SloPick} */
      var pick = function (slo) { return slo.byPriority[p]; };
      var index = sloPriorityIndex[p];
      if (index === undefined) {
        // A priority gets its own line once any of its requests carried a deadline.
        var counts = latest && latest.slo && latest.slo.byPriority[p];
        if (!(counts && counts.n > 0)) return;
        index = sloPriorityIndex[p] = S.length;
        S.push(dataset(p + ', last 30 s', PRIORITY_COLORS[p], { borderWidth: 1.5 }));
      }
      S[index].data = sloRecent(pick);
    });
    // Zoom the % axis in when everything is high, so 99 % and 100 % stay apart.
    var lowest = 100;
    S.forEach(function (d) { d.data.forEach(function (pt) { if (pt.y !== null && pt.y < lowest) lowest = pt.y; }); });
    yAxis(charts.slo).min = lowest >= 90 ? 90 : lowest >= 50 ? 50 : 0;

    var T = charts.throughput.data.datasets;
    T[0].data = points(function (x) { return x.rps; });
    T[1].data = points(function (x) { return x.tps; });
    var Q = charts.queue.data.datasets;
    Q[0].data = points(function (x) { return x.queue; });
    Q[1].data = points(function (x) { return x.running; });
    Q[2].data = points(function (x) { return x.active; });

    Object.keys(charts).forEach(function (name) {
      var c = charts[name];
      var x = c.options.scales && c.options.scales.x;
      if (x) {
        x.min = from;
        x.max = Math.max(now, from + 1000);
      }
      c.update('none');
    });
  }

  // ---------- summary cards ----------
  /**
   * @param {string} status
   * @returns {'ok' | 'warn' | 'bad'}
   */
  function toneFor(status) {
    return status === 'ok' ? 'ok' : status === 'degraded' || status === 'starting' ? 'warn' : 'bad';
  }
  function updateCards() {
    var h = state.health, m = state.metrics;
    if (h) {
      setText('status-value', h.status);
      setTone('status-value', toneFor(h.status));
      var engines = h.engines || [];
      var running = engines.filter(function (e) { return e.state === 'RUNNING'; }).length;
      setText('status-sub', engines.length ? running + ' of ' + engines.length + ' engines running' : (h.instances || []).length + ' instances');
      setText('policy-value', h.policy || '—');
      setText('policy-sub', 'router ' + (h.router || '—') + ' · up ' + fmtDuration(h.uptimeSec));
    }
    if (m) {
      var overall = m.slo && m.slo.overall;
      setText('slo-value', overall && overall.compliance !== null ? fmtPct(overall.compliance) : '—');
      setTone('slo-value', !overall || overall.compliance === null ? null : overall.compliance >= 0.99 ? 'ok' : overall.compliance >= 0.9 ? 'warn' : 'bad');
      setText('slo-sub', overall && overall.withDeadline > 0 ? overall.met + ' of ' + overall.withDeadline + ' met since start' : 'no request with a deadline yet');
      /** @type {Partial<MetricsSnapshot['requests']>} */
      var r = m.requests || {};
      setText('requests-value', String(r.total || 0));
      setText('requests-sub', (r.completed || 0) + ' ok · ' + (r.failed || 0) + ' failed · ' + (r.rejected || 0) + ' rejected');
      setText('throughput-value', fmtRate(m.throughput.requestsPerSec) + ' req/s');
      setText('throughput-sub', fmtRate(m.throughput.tokensPerSec) + ' tokens/s over ' + Math.round(m.windowMs / 1000) + ' s');
      setText('queue-value', String(m.queueLength));
      var src = latencySource(m);
      setText('queue-sub', m.running + ' dispatched · p95 wait ' + fmtMs(src.latency.queueWaitMs.count > 0 ? src.latency.queueWaitMs.p95 : null) + ' (' + src.label + ')');
      setText('latency-hint', 'ms, ' + src.label + ' · solid E2E, dashed TTFT');
      setText('throughput-hint', 'completed, ' + fmtSpan(m.recent ? m.recent.windowMs : m.windowMs) + ' sliding window');
    } else if (h) {
      setText('queue-value', String(h.queueLength));
    }
  }

  // ---------- engines table ----------
  /**
   * @param {string} text
   * @param {string} tone
   */
  function badge(text, tone) {
    var span = document.createElement('span');
    span.className = 'badge ' + tone;
    span.textContent = text;
    return span;
  }
  /**
   * @param {HTMLTableRowElement} tr
   * @param {Node | string | number | null | undefined} content
   * @param {string} [cls]
   */
  function cell(tr, content, cls) {
    var td = document.createElement('td');
    if (cls) td.className = cls;
    if (content === null || content === undefined) td.textContent = '—';
    else if (typeof content === 'object') td.appendChild(content);
    else td.textContent = String(content);
    tr.appendChild(td);
    return td;
  }
  // STARTING, RESTARTING (a restart pending after an exit) and STOPPING are passing states.
  /** @param {string} s */
  function stateTone(s) {
    return s === 'RUNNING' ? 'ok' : s === 'FAILED' || s === 'STOPPED' ? 'bad' : 'warn';
  }
  // A drained instance is alive but gets no new work (much slower than its peers): the reason is its tooltip.
  /** @param {InstanceView} i */
  function healthBadge(i) {
    if (i.drained && i.health === 'healthy') { var b = badge('drained', 'warn'); b.title = i.drained; return b; }
    return badge(i.health, i.health === 'healthy' ? 'ok' : i.health === 'unhealthy' ? 'bad' : 'warn');
  }
  function updateTable() {
    var tbody = document.querySelector('#engines tbody');
    if (!tbody) throw new Error('dashboard: the page has no engines table');
    var h = state.health, m = state.metrics;
    /** @type {Record<string, { id: string, engine?: EngineView, instance?: InstanceView }>} */
    var rows = {};
    /** @type {string[]} */
    var order = [];
    /** @param {string} id */
    function row(id) { if (!rows[id]) { rows[id] = { id: id }; order.push(id); } return rows[id]; }
    ((h && h.engines) || []).forEach(function (e) { row(e.id).engine = e; });
    var live = (m && m.instances_live) || (h && h.instances) || [];
    live.forEach(function (i) { row(i.id).instance = i; });
    var frag = document.createDocumentFragment();
    if (order.length === 0) {
      var tr0 = document.createElement('tr');
      tr0.className = 'empty';
      var td0 = document.createElement('td');
      td0.colSpan = 13;
      td0.textContent = h || m ? 'No engines or instances registered.' : 'Waiting for the first update…';
      tr0.appendChild(td0);
      frag.appendChild(tr0);
    }
    order.forEach(function (id) {
      var r = rows[id], e = r.engine, i = r.instance, load = i && i.load;
      var tr = document.createElement('tr');
      tr.dataset.engineId = id;
      var th = document.createElement('th');
      th.scope = 'row';
      th.textContent = id;
      tr.appendChild(th);
      cell(tr, e ? e.kind : i ? i.type : null);
      cell(tr, e ? e.model : i && i.models ? i.models.join(', ') : null);
      cell(tr, e ? badge(e.state, stateTone(e.state)) : badge('EXTERNAL', 'info')).dataset.col = 'state';
      cell(tr, i ? healthBadge(i) : null).dataset.col = 'health';
      cell(tr, i && i.circuit ? badge(i.circuit, i.circuit === 'closed' ? 'ok' : i.circuit === 'open' ? 'bad' : 'warn') : null).dataset.col = 'circuit';
      cell(tr, load ? load.activeRequests : null, 'num');
      cell(tr, load ? load.queuedRequests : null, 'num');
      if (load) {
        var box = document.createElement('span');
        var meter = document.createElement('meter');
        meter.min = 0; meter.max = 1; meter.low = 0.7; meter.high = 0.9; meter.optimum = 0;
        meter.value = Math.max(0, Math.min(1, load.kvCacheUsage || 0));
        meter.setAttribute('aria-label', 'KV cache usage of ' + id);
        box.appendChild(meter);
        box.appendChild(document.createTextNode(Math.round((load.kvCacheUsage || 0) * 100) + ' %'));
        cell(tr, box);
      } else cell(tr, null);
      cell(tr, load ? fmtMs(load.ewmaLatencyMs) : null, 'num');
      var acc = m && m.estimator ? m.estimator[id] : undefined;
      var ape = function (/** @type {number | null} */ v) { return v === null ? '–' : Math.round(v * 100) + ' %'; };
      cell(tr, acc && acc.samples > 0 ? ape(acc.e2eMdape) + ' / ' + ape(acc.ttftMdape) : null, 'num').dataset.col = 'estimate-error';
      cell(tr, load ? fmtRate(load.tokensPerSecond) : null, 'num');
      cell(tr, e ? e.restarts : null, 'num');
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
  }

  // ---------- status line ----------
  /** @param {string} text */
  function showError(text) {
    var el = $('error-banner');
    el.textContent = text;
    el.hidden = !text;
  }
  /**
   * @param {string} kind
   * @param {string} text
   */
  function setConnection(kind, text) {
    var el = $('conn');
    el.dataset.state = kind;
    setText('conn', text);
  }

  // ---------- polling ----------
  /** @type {ReturnType<typeof setTimeout> | null} */
  var timer = null;
  /** @param {number} delay */
  function pollSoon(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(poll, delay);
  }
  function poll() {
    timer = null;
    var t = Date.now();
    Promise.allSettled([getJson('/health', false), getJson('/v1/metrics', true)]).then(function (res) {
      state.polls += 1;
      var hr = res[0], mr = res[1];
      // /health answers 503 with a full body when no instance is healthy: that is data, not an outage.
      var health = hr.status === 'fulfilled' && hr.value.json && (hr.value.status === 200 || hr.value.status === 503) ? /** @type {Health} */ (hr.value.json) : null;
      /** @type {Metrics | null} */
      var metrics = null;
      if (mr.status === 'fulfilled' && mr.value.status === 401) {
        showAuth(storedKey() ? 'The stored API key was rejected. Enter a valid key to read /v1/metrics.' : null);
      } else if (mr.status === 'fulfilled' && mr.value.status === 200 && mr.value.json) {
        metrics = /** @type {Metrics} */ (mr.value.json);
        if (state.authRequired) { state.authRequired = false; $('auth').hidden = true; }
      }
      if (!health && !metrics) {
        state.failures += 1;
        state.connected = false;
        var reason = hr.status === 'rejected' ? (hr.reason && hr.reason.name === 'AbortError' ? 'timed out' : 'unreachable') : 'HTTP ' + hr.value.status;
        state.lastError = reason;
        setConnection('disconnected', 'Disconnected (' + reason + ') · retrying every ' + intervalMs / 1000 + ' s');
        addSample(emptySample(t, true));
      } else {
        state.connected = true;
        state.health = health || state.health;
        state.metrics = metrics;
        state.lastUpdate = t;
        addSample(toSample(t, metrics, health));
        if (state.authRequired && !metrics) setConnection('auth', 'Connected · API key needed for metrics');
        else setConnection('live', 'Live · updated ' + fmtClock(t));
      }
      updateCards();
      updateTable();
      updateCharts();
    }).catch(function (err) {
      state.lastError = String(err && err.message || err);
      showError('Dashboard error: ' + state.lastError);
    }).finally(function () {
      if (!timer) pollSoon(intervalMs);
    });
  }

  setText('foot-text', 'Polls ' + base + '/health and ' + base + '/v1/metrics every ' + intervalMs / 1000 + ' s and keeps the last ' +
    Math.round(windowMs / 1000) + ' s in this tab. Override with ?interval=ms&window=seconds. Latency percentiles and throughput are over a sliding window on the server; totals and the SLO card count since it started.');
  if (storedKey()) $('forget-key').hidden = false;

  page.__sageDashboard = {
    state: state,
    charts: charts,
    config: { intervalMs: intervalMs, windowMs: windowMs, base: base },
    /**
     * @param {string} name
     * @param {number} [index]
     */
    pointCount: function (name, index) {
      var c = charts[name];
      if (!c) return 0;
      return c.data.datasets[index || 0].data.filter(function (p) { return p.y !== null && p.y !== undefined; }).length;
    }
  };
  poll();
})();
