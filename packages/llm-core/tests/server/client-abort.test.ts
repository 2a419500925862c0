// A request's abort signal (server/client-abort.ts) behaves as a platform AbortSignal for what sage does with one:
// each scenario runs on an AbortController's signal and on a ClientAbortSignal, and both must record the same calls.
import { ClientAbortSignal } from '../../src/server/client-abort';

interface Subject {
  signal: AbortSignal;
  abort(reason: unknown): void;
}

const platform = (): Subject => {
  const c = new AbortController();
  return { signal: c.signal, abort: (reason) => c.abort(reason) };
};
const client = (): Subject => {
  const s = new ClientAbortSignal();
  return { signal: s, abort: (reason) => s.abort(reason) };
};

type Scenario = (s: Subject, calls: string[]) => void;

const scenarios: Record<string, Scenario> = {
  'listeners run once, in the order added, with the abort event': (s, calls) => {
    s.signal.addEventListener('abort', (e) => calls.push(`a:${e.type}`));
    s.signal.addEventListener('abort', () => calls.push('b'), { once: true });
    s.abort('gone');
    s.abort('again');
    calls.push(`aborted:${s.signal.aborted}:${String(s.signal.reason)}`);
  },
  'the same listener added twice runs once; with another capture flag it is another listener': (s, calls) => {
    const f = () => calls.push('f');
    s.signal.addEventListener('abort', f);
    s.signal.addEventListener('abort', f, { once: true });
    s.signal.addEventListener('abort', f, true);
    s.abort('x');
  },
  'a removed listener does not run (capture must match to remove)': (s, calls) => {
    const f = () => calls.push('f');
    const g = () => calls.push('g');
    s.signal.addEventListener('abort', f, { once: true });
    s.signal.addEventListener('abort', g, true);
    s.signal.removeEventListener('abort', f);
    s.signal.removeEventListener('abort', g);
    s.abort('x');
  },
  'a listener removed by an earlier one during the abort does not run': (s, calls) => {
    const later = () => calls.push('later');
    s.signal.addEventListener('abort', () => {
      calls.push('first');
      s.signal.removeEventListener('abort', later);
    });
    s.signal.addEventListener('abort', later);
    s.abort('x');
  },
  'handleEvent objects are called, onabort runs, listeners added after the abort never run': (s, calls) => {
    s.signal.onabort = () => calls.push('onabort');
    s.signal.addEventListener('abort', { handleEvent: (e: Event) => calls.push(`object:${e.type}`) });
    s.abort(new Error('client disconnected'));
    s.signal.addEventListener('abort', () => calls.push('too late'));
    try {
      s.signal.throwIfAborted();
    } catch (err) {
      calls.push(`threw:${(err as Error).message}`);
    }
  },
  "a listener whose options' signal aborted first is removed (or never added)": (s, calls) => {
    const stop = new AbortController();
    s.signal.addEventListener('abort', () => calls.push('kept'));
    s.signal.addEventListener('abort', () => calls.push('dropped'), { signal: stop.signal });
    stop.abort();
    s.signal.addEventListener('abort', () => calls.push('never'), { signal: stop.signal });
    s.abort('x');
  },
  'other event types are not abort listeners; throwIfAborted is quiet before the abort': (s, calls) => {
    s.signal.addEventListener('other', () => calls.push('other'));
    s.signal.throwIfAborted();
    s.abort('x');
    calls.push(`aborted:${s.signal.aborted}`);
  },
};

describe('ClientAbortSignal against AbortController', () => {
  it.each(Object.entries(scenarios))('%s', (_name, scenario) => {
    const expected: string[] = [];
    scenario(platform(), expected);
    const actual: string[] = [];
    scenario(client(), actual);
    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });
});
