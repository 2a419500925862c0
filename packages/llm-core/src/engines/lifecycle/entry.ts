// One engine as the lifecycle manager holds it, and its conversions to and from a state-file record.
import type { ChildProcess } from 'node:child_process';
import type { InstanceType } from '../../control-plane/types';
import { redactCommand } from '../kinds/builders';
import type { CommandLine, EngineCategory } from '../kinds/types';
import { engineBaseUrl, shown } from './command-line';
import type { StoredEngine } from './state-file';
import { EngineState, type EngineInfo, type EngineStartSpec } from './types';

export interface Entry {
  info: EngineInfo;
  spec: EngineStartSpec;
  cmd: CommandLine;
  child?: ChildProcess;
  memoryGbPerGpu?: number;
  /** Why it is FAILED: an unexpected exit is supervised; a failed first start or exhausted restarts are not. */
  failure?: 'exit' | 'start' | 'restart' | 'exhausted';
  stopRequested: boolean;
  /** Serialises start/restart/stop on one engine. */
  busy?: Promise<unknown>;
  /** Stops the liveness poll of an adopted process (which sends no exit event). */
  unwatch?: () => void;
}

/** What a start reserved for an engine (see resources.ts), and the command built for it. */
export interface Reservation {
  port: number;
  useGpu: boolean;
  gpuIds: number[];
  memoryGbPerGpu?: number;
  cmd: CommandLine;
}

/** The state-file record of an entry with a process (undefined without one: nothing to find later). */
export function storedRecord(e: Entry, now: () => string, ownerPid: number): StoredEngine | undefined {
  if (e.info.pid === undefined) return undefined;
  return {
    id: e.info.id,
    label: e.info.label,
    pid: e.info.pid,
    port: e.info.port,
    host: e.info.host,
    kind: e.info.kind,
    category: e.info.category,
    model: e.info.model,
    instanceType: e.info.instanceType,
    command: [e.cmd.command, ...e.cmd.args], // the real one: recovery compares it with /proc
    env: e.cmd.env,
    gpuIds: e.info.gpuIds,
    memoryGbPerGpu: e.memoryGbPerGpu,
    maxConcurrentRequests: e.info.maxConcurrentRequests,
    useGpu: e.info.useGpu,
    logFile: e.info.logFile,
    startedAt: e.info.startedAt ?? now(),
    ownerPid,
  };
}

/** The entry of an engine adopted from an earlier run's record: RUNNING, last seen healthy at `now`. */
export function adoptedEntry(rec: StoredEngine, detail: string, now: string): Entry {
  const [command, ...args] = rec.command;
  const cmd: CommandLine = { command, args, env: rec.env ?? {} };
  return {
    cmd,
    memoryGbPerGpu: rec.memoryGbPerGpu,
    stopRequested: false,
    spec: { id: rec.id, label: rec.label, kind: rec.kind, category: rec.category, model: rec.model, host: rec.host, port: rec.port, instanceType: rec.instanceType, command: { command, args, env: rec.env } },
    info: {
      id: rec.id,
      label: rec.label,
      kind: rec.kind,
      category: rec.category,
      model: rec.model,
      host: rec.host,
      port: rec.port,
      baseUrl: engineBaseUrl(rec.host, rec.port),
      instanceType: rec.instanceType,
      state: EngineState.RUNNING,
      pid: rec.pid,
      gpuIds: rec.gpuIds,
      useGpu: rec.useGpu,
      command: redactCommand(rec.command),
      logFile: rec.logFile,
      startedAt: rec.startedAt,
      restarts: 0,
      adopted: true,
      maxConcurrentRequests: rec.maxConcurrentRequests,
      lastHealth: { ok: true, at: now, detail },
      events: [],
    },
  };
}

/** A caller's copy of an entry's info: later changes do not leak into it. */
export function snapshot(e: Entry): EngineInfo {
  return structuredClone(e.info);
}

/** A newly created engine (STARTING) holding the reservation it was given. */
export function startingEntry(spec: EngineStartSpec, id: string, category: EngineCategory, host: string, r: Reservation, logFile: string): Entry {
  const { port, gpuIds, useGpu, memoryGbPerGpu, cmd } = r;
  return {
    spec,
    cmd,
    memoryGbPerGpu,
    stopRequested: false,
    info: {
      id,
      label: spec.label,
      kind: spec.kind,
      category,
      model: spec.model,
      host,
      port,
      baseUrl: engineBaseUrl(host, port),
      instanceType: spec.instanceType ?? ((category === 'llm' ? 'GENERAL' : 'EMBEDDING') as InstanceType),
      state: EngineState.STARTING,
      gpuIds,
      useGpu,
      command: shown(cmd),
      logFile,
      restarts: 0,
      adopted: false,
      maxConcurrentRequests: spec.maxConcurrentRequests,
      metadata: spec.metadata,
      events: [],
    },
  };
}
