// Applying a preset: start its engines in order; on the first failure stop the ones started (rollback).
import type { EngineStartSpec } from '../lifecycle/types';
import { presetEngineToStartSpec } from './resolve';
import type { Preset } from './schema';

export interface ApplyOptions<T> {
  /** Starts one engine and resolves once it is running (e.g. EngineLifecycleManager.start). */
  start: (spec: EngineStartSpec, index: number) => Promise<T>;
  /** Stops an engine started by this apply. */
  stop: (started: T, spec: EngineStartSpec) => Promise<void>;
  /** Default true: a failure stops the engines already started, in reverse order. */
  rollback?: boolean;
}

export interface PresetApplyResult<T> {
  preset: string;
  ok: boolean;
  /** Engines started and still running (empty after a rollback). */
  started: { name: string; result: T }[];
  failed?: { name: string; error: string };
  rolledBack: string[];
  rollbackErrors: { name: string; error: string }[];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function applyPreset<T>(preset: Preset, options: ApplyOptions<T>): Promise<PresetApplyResult<T>> {
  const rollback = options.rollback ?? true;
  const started: { name: string; result: T; spec: EngineStartSpec }[] = [];
  const result: PresetApplyResult<T> = { preset: preset.name, ok: true, started: [], rolledBack: [], rollbackErrors: [] };
  for (const [index, engine] of preset.engines.entries()) {
    const spec = presetEngineToStartSpec(preset.name, engine);
    try {
      started.push({ name: engine.name, result: await options.start(spec, index), spec });
    } catch (err) {
      result.ok = false;
      result.failed = { name: engine.name, error: message(err) };
      break;
    }
  }
  if (!result.ok && rollback) {
    for (const s of [...started].reverse()) {
      try {
        await options.stop(s.result, s.spec);
        result.rolledBack.push(s.name);
      } catch (err) {
        result.rollbackErrors.push({ name: s.name, error: message(err) });
      }
    }
    const stoppedNames = new Set(result.rolledBack);
    result.started = started.filter((s) => !stoppedNames.has(s.name)).map(({ name, result: r }) => ({ name, result: r }));
  } else {
    result.started = started.map(({ name, result: r }) => ({ name, result: r }));
  }
  return result;
}
