// Readiness of a control plane that starts a preset: ready once every engine of the preset is RUNNING and
// registered with the scheduler. Until then a request for a model one of those engines will serve waits for it
// (bounded by the caller) instead of failing with model_not_found.
import { EventEmitter } from 'node:events';
import type { EngineCategory } from '../engines/kinds';
import type { EngineState } from '../engines/lifecycle';

export interface ExpectedEngine {
  id: string;
  model: string;
  category: EngineCategory;
}

export interface ReadinessStatus {
  ready: boolean;
  /** Preset engines not yet RUNNING and registered (ids). */
  waitingFor: string[];
  /** The preset's start failed: it will not become ready by itself. */
  failed: boolean;
}

export interface ReadinessView {
  engineState(id: string): EngineState | undefined;
  registered(id: string): boolean;
}

export type ModelWait = 'served' | 'not_expected' | 'timeout' | 'failed';

export class PresetReadiness {
  private readonly expected = new Map<string, ExpectedEngine>();
  private starting = false;
  private failed = false;
  private readonly events = new EventEmitter<{ change: [] }>();

  constructor(private readonly view: ReadinessView) {
    this.events.setMaxListeners(0);
  }

  /** The preset's engines are about to start: readiness waits for them from now on. */
  expect(engines: readonly ExpectedEngine[]): void {
    for (const e of engines) this.expected.set(e.id, e);
    this.starting = true;
    this.failed = false;
    this.changed();
  }

  /** The preset's start is over (ok: every engine started). */
  settle(ok: boolean): void {
    this.starting = false;
    this.failed = !ok;
    this.changed();
  }

  /** Something about the engines changed (one registered, failed or stopped): waiters look again. */
  changed(): void {
    this.events.emit('change');
  }

  status(): ReadinessStatus {
    const waitingFor = [...this.expected.keys()].filter((id) => !(this.view.engineState(id) === 'RUNNING' && this.view.registered(id)));
    return { ready: !this.starting && !this.failed && waitingFor.length === 0, waitingFor, failed: this.failed };
  }

  /** A preset engine serving `model` (of this category, if given) that is not serving yet. */
  pendingFor(model: string | undefined, category: EngineCategory): ExpectedEngine | undefined {
    if (this.failed) return undefined;
    for (const e of this.expected.values()) {
      if (e.category !== category || (model && e.model !== model)) continue;
      const state = this.view.engineState(e.id);
      if (state === 'RUNNING' && this.view.registered(e.id)) continue;
      // A preset engine that is still to start, or starting, or restarting, will serve; a failed one will not.
      if (state === undefined ? this.starting : state === 'STARTING' || state === 'RUNNING') return e;
    }
    return undefined;
  }

  /**
   * Waits while a preset engine that will serve `model` starts: 'served' once one is RUNNING and registered,
   * 'not_expected' at once when no preset engine is on its way for it, 'timeout' after `timeoutMs`, 'failed'
   * when the engine failed to start.
   */
  waitForModel(model: string | undefined, category: EngineCategory, timeoutMs: number, signal?: AbortSignal): Promise<ModelWait> {
    if (!this.pendingFor(model, category)) return Promise.resolve('not_expected');
    return new Promise<ModelWait>((resolve) => {
      const done = (outcome: ModelWait): void => {
        clearTimeout(timer);
        this.events.off('change', check);
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const check = (): void => {
        if (this.pendingFor(model, category)) return;
        const servedNow = [...this.expected.values()].some((e) => e.category === category && (!model || e.model === model) && this.view.engineState(e.id) === 'RUNNING' && this.view.registered(e.id));
        done(servedNow ? 'served' : 'failed');
      };
      const onAbort = (): void => done('timeout');
      const timer = setTimeout(() => done('timeout'), timeoutMs);
      timer.unref();
      this.events.on('change', check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
