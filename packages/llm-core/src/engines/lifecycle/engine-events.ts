// Event-log bookkeeping and state transitions: every change is appended to the engine's bounded event log,
// logged, and told to the state listeners (a throwing listener is logged, never breaks the transition).
import type { Logger } from 'pino';
import { snapshot, type Entry } from './entry';
import { EngineState, type EngineEvent, type EngineStateListener } from './types';

/** Told when an engine's process exits on its own while RUNNING (`detail` says how). */
export type EngineExitListener = (id: string, detail: string) => void;

export interface EngineEventsOptions {
  log: Logger;
  now: () => Date;
  /** Oldest events are dropped beyond this many per engine. */
  maxEvents: number;
  /** The engine currently registered under an id (events of unknown ids are dropped). */
  lookup: (id: string) => Entry | undefined;
}

export class EngineEvents {
  private readonly listeners = new Set<EngineStateListener>();
  private readonly exitListeners = new Set<EngineExitListener>();

  constructor(private readonly options: EngineEventsOptions) {}

  /** Subscribes to state changes; returns the unsubscribe function. */
  subscribe(listener: EngineStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to unexpected exits; while one is subscribed (a supervisor), such an engine is RESTARTING, not FAILED. */
  subscribeExit(listener: EngineExitListener): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Whether someone will restart an engine whose process exits. */
  get exitWatched(): boolean {
    return this.exitListeners.size > 0;
  }

  notifyExit(id: string, detail: string): void {
    for (const listener of this.exitListeners) {
      try {
        listener(id, detail);
      } catch (err) {
        this.options.log.error({ err, engineId: id }, 'engine exit listener threw');
      }
    }
  }

  record(id: string, type: EngineEvent['type'], message: string, state?: EngineState): void {
    const e = this.options.lookup(id);
    if (!e) return;
    e.info.events.push({ at: this.options.now().toISOString(), type, message, ...(state ? { state } : {}) });
    if (e.info.events.length > this.options.maxEvents) e.info.events.splice(0, e.info.events.length - this.options.maxEvents);
  }

  setState(e: Entry, state: EngineState, message: string): void {
    const { log } = this.options;
    const from = e.info.state;
    e.info.state = state;
    this.record(e.info.id, 'state', `${from} → ${state}: ${message}`, state);
    const level = state === EngineState.FAILED ? 'warn' : 'info';
    log[level]({ engineId: e.info.id, from, to: state }, message);
    if (this.listeners.size === 0) return;
    const change = { id: e.info.id, from, to: state, reason: message, engine: snapshot(e) };
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        log.error({ err, engineId: e.info.id }, 'engine state listener threw');
      }
    }
  }
}
