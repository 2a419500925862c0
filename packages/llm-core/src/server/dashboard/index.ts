// GET /dashboard (F-307): a live page over /health and /v1/metrics, drawn in the browser with Chart.js.
// The page and its assets are static and carry no data, so they are served without auth (app.ts registers them
// outside the API-key scope); the data endpoints keep their auth and the page asks for a key when they answer 401.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SageError } from '@sage/common';
import { loadChartAsset, loadDashboardScript, type StaticAsset } from './assets';
import { renderPage } from './page';
import { DASHBOARD_CSS } from './styles';

export interface DashboardOptions {
  /** How often the page polls, in ms (default 1000; the page's ?interval= overrides it). */
  pollIntervalMs?: number;
  /** Rolling window kept in the browser, in seconds (default 300; ?window= overrides it). */
  windowSec?: number;
}

export const DASHBOARD_PATH = '/dashboard';

// Scripts, styles and fetches only from this origin; no inline code, no framing.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
}

function sendAsset(reply: FastifyReply, asset: StaticAsset, consequence: string, cacheControl: string): FastifyReply {
  if (!asset.ok) throw new SageError(`${asset.error}; ${consequence}`, { status: 500, code: 'asset_unavailable' });
  return secure(reply).type('text/javascript; charset=utf-8').header('cache-control', cacheControl).send(asset.source);
}

export function registerDashboardRoutes(app: FastifyInstance, options: DashboardOptions = {}): void {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const windowSec = options.windowSec ?? 300;
  if (!(pollIntervalMs >= 250 && pollIntervalMs <= 60_000)) throw new RangeError(`dashboard pollIntervalMs must be 250..60000, got ${pollIntervalMs}`);
  if (!(windowSec >= 10 && windowSec <= 86_400)) throw new RangeError(`dashboard windowSec must be 10..86400, got ${windowSec}`);
  const html = renderPage({ pollIntervalMs, windowSec });
  const chart = loadChartAsset();
  if (!chart.ok) app.log.warn({ error: chart.error }, 'dashboard: charts unavailable');
  const script = loadDashboardScript();
  if (!script.ok) app.log.error({ error: script.error }, 'dashboard: page script unavailable');

  app.get(DASHBOARD_PATH, async (_request, reply) =>
    secure(reply).type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('content-security-policy', CONTENT_SECURITY_POLICY).send(html),
  );
  // Relative, so a proxy prefix survives: /x/dashboard/ -> /x/dashboard (the page's asset URLs are relative to it).
  app.get(`${DASHBOARD_PATH}/`, async (_request, reply) => reply.redirect('../dashboard', 301));
  app.get(`${DASHBOARD_PATH}/assets/dashboard.js`, async (_request, reply) =>
    sendAsset(reply, script, 'the dashboard page cannot run', 'no-cache'),
  );
  app.get(`${DASHBOARD_PATH}/assets/dashboard.css`, async (_request, reply) =>
    secure(reply).type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(DASHBOARD_CSS),
  );
  app.get(`${DASHBOARD_PATH}/assets/chart.umd.js`, async (_request, reply) =>
    sendAsset(reply, chart, 'the dashboard cannot draw charts', 'public, max-age=86400'),
  );
}
