// HTTP health of an engine (F-211): LLM engines answer /health (vLLM, sim-llm), or — for servers that
// have no /health (404/405) — /v1/models; embedding engines (TEI, sim-embedding) answer /health.
// An engine that says it is unhealthy (e.g. 503 on /health) is unhealthy, whatever /v1/models says.
import * as http from 'node:http';
import type { EngineCategory } from '../kinds/types';

export interface HealthResult {
  ok: boolean;
  detail: string;
}

/** GET with no connection reuse (health probes must not keep sockets to engines that may die). */
export function httpGetStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export async function probeEngineHealth(host: string, port: number, category: EngineCategory, timeoutMs: number): Promise<HealthResult> {
  const deadline = Date.now() + timeoutMs;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const paths = category === 'llm' ? ['/health', '/v1/models'] : ['/health'];
  const failures: string[] = [];
  for (const p of paths) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const status = await httpGetStatus(`http://${hostPart}:${port}${p}`, left);
      if (status >= 200 && status < 300) return { ok: true, detail: `${p} ${status}` };
      failures.push(`${p} ${status}`);
      if (status !== 404 && status !== 405) break;
    } catch (err) {
      failures.push(`${p} ${(err as Error).message}`);
      // A refused connection will be refused on the next path too.
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') break;
    }
  }
  return { ok: false, detail: failures.join('; ') || 'timed out' };
}
