// The scoreboard as one HTML page of SVG bar charts (no library): rendered to PNG with headless Chromium for
// docs/scoreboard.png. Each chart is grouped bars, one group per policy or router.
/* global module */
'use strict';

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The next 1, 2 or 5 × 10^k at or above v: round axis ticks. */
function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((x) => x >= v) ?? v;
}

function bars({ title, categories, series, max, unit, width = 620, height = 260 }) {
  const left = 48;
  const bottom = 54;
  const top = 34;
  const plotW = width - left - 12;
  const plotH = height - top - bottom;
  const top1 = max ?? niceMax(Math.max(1, ...series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)))));
  const groupW = plotW / Math.max(1, categories.length);
  const barW = Math.max(4, (groupW * 0.8) / series.length);
  const y = (v) => top + plotH - (Math.max(0, Math.min(v, top1)) / top1) * plotH;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (top1 * i) / 4;
    parts.push(`<line x1="${left}" x2="${width - 12}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 4}" y="${y(v) + 4}" text-anchor="end" fill="#555">${esc(Math.round(v * 10) / 10)}${esc(unit ?? '')}</text>`);
  }
  categories.forEach((c, ci) => {
    const gx = left + ci * groupW + groupW * 0.1;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v)) return;
      parts.push(`<rect x="${gx + si * barW}" y="${y(v)}" width="${barW - 1}" height="${top + plotH - y(v)}" fill="${s.color ?? COLORS[si % COLORS.length]}"><title>${esc(`${s.name} ${c}: ${v}`)}</title></rect>`);
    });
    parts.push(`<text x="${left + ci * groupW + groupW / 2}" y="${top + plotH + 14}" text-anchor="middle">${esc(c)}</text>`);
  });
  series.forEach((s, si) => {
    const lx = left + si * 130;
    parts.push(`<rect x="${lx}" y="${height - 18}" width="10" height="10" fill="${s.color ?? COLORS[si % COLORS.length]}"/><text x="${lx + 14}" y="${height - 9}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function renderHtml(result) {
  const charts = [];
  const t = (id) => result.tables.find((x) => x.id === id);
  const pr = t('priority');
  if (pr) {
    const runs = pr.raw.runs.filter((r) => !r.shadow);
    const met = (r, c) => (r.classes[c] && r.classes[c].sent ? (100 * r.classes[c].met) / r.classes[c].sent : 0);
    charts.push(bars({ title: 'Priority mix at 1.25x capacity: deadlines met (%)', categories: runs.map((r) => r.policy), series: ['HIGH', 'NORMAL', 'LOW'].map((c) => ({ name: c, values: runs.map((r) => met(r, c)) })), max: 100, unit: '' }));
    charts.push(bars({ title: 'Priority mix: goodput (completions within SLO per second)', categories: runs.map((r) => r.policy), series: [{ name: 'goodput/s', values: runs.map((r) => r.goodputPerSec) }] }));
  }
  const ov = t('overload');
  const st = t('storm');
  if (ov || st) {
    const cats = (ov ?? st).raw.runs.map((r) => r.policy);
    const series = [];
    if (ov) series.push({ name: '2x overload', values: ov.raw.runs.map((r) => (100 * r.completionsPerSec) / ov.raw.capacity) });
    if (st) series.push({ name: '2,000 connections', values: st.raw.runs.map((r) => (100 * r.completionsPerSec) / st.raw.capacity) });
    charts.push(bars({ title: 'Completions as % of capacity at 64 connections', categories: cats, series, max: 120 }));
    const waits = [];
    if (ov) waits.push({ name: '2x overload', values: ov.raw.runs.map((r) => r.queueWaitP99) });
    if (st) waits.push({ name: '2,000 connections', values: st.raw.runs.map((r) => r.queueWaitP99) });
    charts.push(bars({ title: 'Queue wait p99 of admitted requests (ms; budget 2,000)', categories: cats, series: waits }));
  }
  const px = t('prefix');
  if (px) {
    charts.push(bars({ title: 'Prefix mix: TTFT (ms) per router', categories: px.raw.runs.map((r) => r.router.replace('_', ' ')), series: [{ name: 'p50', values: px.raw.runs.map((r) => r.ttftP50) }, { name: 'p99', values: px.raw.runs.map((r) => r.ttftP99) }] }));
  }
  const est = t('estimator');
  if (est) {
    const ids = Object.keys(est.raw.estimator);
    const pctOf = (v) => (typeof v === 'number' ? 100 * v : NaN);
    charts.push(bars({ title: 'Estimator: median absolute error after 50 warm-up requests (%)', categories: ids, series: [{ name: 'e2e', values: ids.map((id) => pctOf(est.raw.estimator[id].e2eMdape)) }, { name: 'TTFT', values: ids.map((id) => pctOf(est.raw.estimator[id].ttftMdape)) }] }));
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>sage scheduling scoreboard</title>
<style>body{font-family:sans-serif;margin:16px;width:1280px}h1{font-size:18px;margin:0 0 4px}p{color:#444;font-size:12px;margin:0 0 12px}.grid{display:flex;flex-wrap:wrap;gap:12px}</style></head>
<body><h1>sage scheduling scoreboard</h1><p>${esc(result.date)} · ${esc(result.machine)} · seed ${result.seed}</p><div class="grid">${charts.join('')}</div></body></html>`;
}

module.exports = { renderHtml };
