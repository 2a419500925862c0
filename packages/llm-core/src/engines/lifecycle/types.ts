import type { InstanceType } from '../../control-plane/types';
import type { EngineCategory, EngineKind, EngineRole } from '../kinds/types';

export const EngineState = {
  STARTING: 'STARTING',
  RUNNING: 'RUNNING',
  /** The process exited (or a restart failed) and the supervisor will start it again after its backoff. */
  RESTARTING: 'RESTARTING',
  STOPPING: 'STOPPING',
  STOPPED: 'STOPPED',
  FAILED: 'FAILED',
} as const;
export type EngineState = (typeof EngineState)[keyof typeof EngineState];

/** What the caller asks for (API, REST, preset, CLI). Ports and GPUs are decided by their managers. */
export interface EngineStartSpec {
  /** Stable id; default: generated from kind and model. */
  id?: string;
  /** Human label (preset engine name, --label). */
  label?: string;
  kind: EngineKind;
  /** llm | embedding; needed only for kinds that serve both. */
  category?: EngineCategory;
  model: string;
  host?: string;
  /** Explicit port; conflicts are errors (409). Default: allocated from the category's range. */
  port?: number;
  tensorParallel?: number;
  pipelineParallel?: number;
  gpuMemoryUtilization?: number;
  /** F-213 three-valued rule. */
  useGpu?: boolean;
  /** Per-GPU memory to reserve; default: estimated from the model name. */
  requiredMemoryGb?: number;
  instanceType?: InstanceType;
  maxConcurrentRequests?: number;
  dimensions?: number;
  role?: EngineRole;
  timeScale?: number;
  extraArgs?: string[];
  env?: Record<string, string>;
  metadata?: Record<string, unknown>;
  /**
   * Run this instead of the kind's command line (an engine sage has no builder for). `{port}`, `{host}` and
   * `{model}` in args are replaced; health checks still follow the category.
   */
  command?: { command: string; args: string[]; env?: Record<string, string> };
}

export interface EngineEvent {
  /** ISO timestamp. */
  at: string;
  type: 'state' | 'restart' | 'exit' | 'health' | 'adopted' | 'info';
  state?: EngineState;
  message: string;
}

export interface EngineInfo {
  id: string;
  label?: string;
  kind: EngineKind;
  category: EngineCategory;
  model: string;
  host: string;
  port: number;
  /** Base URL of its OpenAI-compatible API. */
  baseUrl: string;
  instanceType: InstanceType;
  state: EngineState;
  pid?: number;
  gpuIds: number[];
  useGpu: boolean;
  command: string[];
  logFile: string;
  startedAt?: string;
  restarts: number;
  /** Found running at recover() and taken over from an earlier run. */
  adopted: boolean;
  lastHealth?: { ok: boolean; at: string; detail: string };
  maxConcurrentRequests?: number;
  metadata?: Record<string, unknown>;
  events: EngineEvent[];
}

/** One line of the state file ${SAGE_HOME}/run/engines.json. */
export interface EngineStateRecord {
  id: string;
  label?: string;
  pid: number;
  port: number;
  host: string;
  kind: EngineKind;
  category: EngineCategory;
  model: string;
  instanceType: InstanceType;
  command: string[];
  gpuIds: number[];
  memoryGbPerGpu?: number;
  maxConcurrentRequests?: number;
  useGpu: boolean;
  logFile: string;
  startedAt: string;
  /** pid of the control plane that started it. */
  ownerPid: number;
}

/** Told on every state change (e.g. to take an engine out of rotation when it fails and back when it runs). */
export interface EngineStateChange {
  id: string;
  from: EngineState;
  to: EngineState;
  reason: string;
  /** Snapshot after the change. */
  engine: EngineInfo;
}

export type EngineStateListener = (change: EngineStateChange) => void;
