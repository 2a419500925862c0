// Shared by the manager tests: managers closed (and scripted upstreams stopped) after each test, a chat
// request, the answer's text, and bounded waits for what happens on sockets.
import { ControlPlaneManager } from '../../src/control-plane/manager';
import { closeAllUpstreams } from './executor-upstream-helpers';

type ManagerOptions = ConstructorParameters<typeof ControlPlaneManager>[0];

/** Registers the cleanup and returns a factory of fifo managers (engine /metrics not polled) that the cleanup closes. */
export function useManagers(): (opts?: ManagerOptions) => ControlPlaneManager {
  const managers: ControlPlaneManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    await closeAllUpstreams();
  });
  return (opts = {}) => {
    // Scripted upstreams answer every path alike: a /metrics poll would count as a request to them.
    const m = new ControlPlaneManager({ policy: 'fifo', engineMetricsPollMs: 0, ...opts });
    managers.push(m);
    return m;
  };
}

export const ask = (content: string) => ({ model: 'm', messages: [{ role: 'user', content }] });
export const text = (body: Record<string, unknown>) => (body.choices as Array<{ message: { content: string } }>)[0]!.message.content;

/** Waits (bounded) until `cond` holds: the engine side runs on sockets, so tests wait for it, not a fixed time. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The promise's outcome, or a failure naming the hang if it is still pending after `ms`. */
export function within<T>(p: Promise<T>, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms (request hangs)`)), ms);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}
