// Event-log bookkeeping and state transitions: every change is appended to the engine's bounded event log,
// logged, and told to the state listeners (a throwing listener is logged, never breaks the transition).
import type { Logger } from 'pino';
import { snapshot, type Entry } from './entry';
import { EngineState, type EngineEvent, type EngineStateListener } from './types';

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

  constructor(private readonly options: EngineEventsOptions) {}

  /** Subscribes to state changes; returns the unsubscribe function. */
  subscribe(listener: EngineStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
