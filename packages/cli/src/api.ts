// A small client of the control plane's HTTP API (management routes, /health) for the CLI commands.
// Errors become one readable line: unreachable → exit 3, the server's OpenAI-shaped error message otherwise.
import { serverRootUrl } from '@sage/common';
import type { InstanceLoad } from '@sage/llm-core';
import { CliError, ExitCode } from './errors';
import type { SageHome } from './home';
import { findRunning } from './server-state';

export const DEFAULT_API_BASE = 'http://127.0.0.1:8000';

export interface HealthEngine {
  id: string;
  state: string;
  model: string;
  kind: string;
  port: number;
  pid?: number;
  restarts: number;
}

export interface HealthInstance {
  id: string;
  type: string;
  models: string[];
  health: string;
  circuit?: string;
  maxConcurrency?: number;
  costPerHour?: number;
  machine?: string;
  rack?: string;
  nvlinkGroup?: string;
  /** The control plane's own load record for the instance, as /health serialises it. */
  load: InstanceLoad;
}

export interface Health {
  status: 'ok' | 'degraded' | 'starting' | 'unhealthy';
  /** Every engine of the preset RUNNING and registered (GET /health/ready answers 200). */
  ready?: boolean;
  service: string;
  version: string;
  uptimeSec: number;
  policy: string;
  router: string;
  /** Prefill/decode separation on. */
  pdSeparation?: boolean;
  queueLength: number;
  /** `local`, or a shared store's state: ok, degraded (unreachable: local state), connecting. */
  state_store?: string;
  replica?: { id: string; store?: string };
  instances: HealthInstance[];
  engines: HealthEngine[];
}

/** --api-base, else $SAGE_API_BASE, else the running control plane's URL from SAGE_HOME, else :8000. */
export function resolveApiBase(home: SageHome, flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? (env.SAGE_API_BASE?.trim() || undefined) ?? findRunning(home)?.url ?? DEFAULT_API_BASE;
  // Accept …/v1 and …/v1/management too: people paste the OpenAI base URL.
  const trimmed = chosen.replace(/\/+$/, '');
  return serverRootUrl(trimmed.endsWith('/v1/management') ? trimmed.slice(0, -'/management'.length) : trimmed);
}

interface OpenAIErrorBody {
  error?: { message?: string; code?: string | null; param?: string | null };
}

export class ApiClient {
  constructor(
    readonly base: string,
    private readonly adminKey: string | undefined = process.env.SAGE_ADMIN_KEY?.trim() || process.env.SAGE_API_KEYS?.split(',')[0]?.trim() || undefined,
    private readonly timeoutMs = 30_000,
  ) {}

  async request<T>(method: string, path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.adminKey) headers.authorization = `Bearer ${this.adminKey}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).name;
      if (cause === 'TimeoutError') throw new CliError(`the control plane at ${this.base} did not answer ${method} ${path} within ${Math.round(timeoutMs / 1000)}s`);
      throw new CliError(`cannot reach the sage control plane at ${this.base} (${cause}); start it with: sage inference start --background`, ExitCode.NOT_RUNNING);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as T };
  }

  /** Like request(), but a non-2xx answer is an error carrying the server's message. */
  async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const { status, body: answer } = await this.request<T>(method, path, body, timeoutMs);
    if (status >= 200 && status < 300) return answer;
    const e = (answer as OpenAIErrorBody | undefined)?.error;
    const message = e?.message ?? (typeof answer === 'string' && answer ? answer : `HTTP ${status}`);
    const hint = status === 401 || status === 403 ? ' (set SAGE_ADMIN_KEY to the control plane admin key)' : '';
    throw new CliError(`${message}${hint}`, status === 400 ? ExitCode.USAGE : ExitCode.FAILURE);
  }

  /** /health answers 503 when unhealthy, with the same body; that is still an answer. */
  async health(timeoutMs = 5000): Promise<Health> {
    const { status, body } = await this.request<Health>('GET', '/health', undefined, timeoutMs);
    if (!body || typeof body !== 'object' || (body as Health).service !== 'sage-control-plane') {
      throw new CliError(`${this.base} answered /health with HTTP ${status}, but it is not a sage control plane`);
    }
    return body;
  }
}
