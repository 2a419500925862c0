// Embedded mode: an in-process control plane — the same ControlPlaneRuntime as the server (scheduler, the one
// PortAllocator, EngineLifecycleManager, auto-restart supervisor) — serving the server's embedded default preset
// (a sim-llm and a sim-embedding engine). Its state lives in a private temporary directory, so it never adopts
// or stops the engines of a running `sage` server; close() stops every engine it started and removes it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatMessageLike } from '../control-plane/types';
import type { EngineLifecycleManager, SupervisorOptions } from '../engines/lifecycle';
import type { PortRanges } from '../engines/ports';
import { resolveStartPreset, type Preset } from '../engines/presets';
import type { ControlPlaneManagerOptions } from '../control-plane/manager';
import { ControlPlaneRuntime, type BackendRegistration } from '../runtime/control-plane-runtime';
import { chunkText, completionText, type Backend, type CallOptions, type EmbedOptions, type InstanceInfo } from './backend';
import { guardEngines } from './orphan-guard';

export interface EmbeddedOptions {
  /** Scheduler options (policy, router, PD separation, batching, queue, timeouts), from the settings. */
  scheduler: ControlPlaneManagerOptions;
  llmModel: string;
  embeddingModel: string;
  /** Time scale of the sim engines: wall seconds per model second (default 1; 0.1 is ten times faster). */
  timeScale?: number;
  /** Port ranges of the control plane's PortAllocator (default: the ranges of docs/features.md). */
  portRanges?: Partial<PortRanges>;
  /** Health-check and restart settings of the engine supervisor (default: the runtime's). */
  supervisor?: SupervisorOptions;
  /** Where the private state directory is made (default os.tmpdir()). */
  stateRoot?: string;
  /** Engines to start instead of the default preset (create({ instances })); none when only backends are given. */
  preset?: Preset | false;
  /** Servers started elsewhere to register. */
  backends?: BackendRegistration[];
}

/** Sim engines answer within a second of starting; this bounds a start on a loaded machine. */
const SIM_STARTUP_TIMEOUT_MS = 60_000;

function pidsOf(engines: EngineLifecycleManager): number[] {
  return engines.listEngines().flatMap((e) => (e.pid === undefined ? [] : [e.pid]));
}

function sampling(o: CallOptions) {
  return { temperature: o.temperature, topP: o.topP, stop: o.stop, seed: o.seed };
}

export class EmbeddedBackend implements Backend {
  readonly mode = 'embedded' as const;
  private closing?: Promise<void>;

  private constructor(
    private readonly runtime: ControlPlaneRuntime,
    /** The private state directory (engine logs, state file), removed on close(). */
    readonly stateDir: string,
    private readonly unguard: () => void,
    readonly defaultLlmModel: string,
    readonly defaultEmbeddingModel: string,
  ) {}

  static async start(opts: EmbeddedOptions): Promise<EmbeddedBackend> {
    const stateDir = await mkdtemp(join(opts.stateRoot ?? tmpdir(), 'sage-embedded-'));
    let runtime: ControlPlaneRuntime | undefined;
    let unguard = (): void => undefined;
    try {
      // The scheduler is built before any engine starts: an unknown policy name is an error, not a fallback.
      runtime = await ControlPlaneRuntime.create({
        scheduler: opts.scheduler,
        sageHome: stateDir,
        portRanges: opts.portRanges,
        supervisor: opts.supervisor,
        simTimeScale: opts.timeScale,
        engineStartupTimeoutMs: SIM_STARTUP_TIMEOUT_MS,
      });
      const engines = runtime.engines;
      unguard = guardEngines({ stateDir, pids: () => pidsOf(engines) });
      for (const b of opts.backends ?? []) await runtime.registerBackend(b);
      const preset = opts.preset === undefined ? resolveStartPreset({ llmModel: opts.llmModel, embeddingModel: opts.embeddingModel }) : opts.preset || undefined;
      if (preset) {
        const applied = await runtime.applyPreset(preset);
        if (!applied.ok) throw new Error(`embedded control plane: engine ${applied.failed?.name} failed to start: ${applied.failed?.error}`);
      }
    } catch (err) {
      await runtime?.close();
      unguard();
      await rm(stateDir, { recursive: true, force: true });
      throw err;
    }
    return new EmbeddedBackend(runtime, stateDir, unguard, opts.llmModel, opts.embeddingModel);
  }

  private get manager() {
    return this.runtime.manager;
  }

  async chat(messages: ChatMessageLike[], o: CallOptions): Promise<string> {
    const r = await this.manager.submit({ model: o.model ?? this.defaultLlmModel, messages, maxTokens: o.maxTokens, sampling: sampling(o), priority: o.priority, sloDeadlineMs: o.sloDeadlineMs, signal: o.signal });
    return completionText(r.body);
  }

  async generate(prompt: string, o: CallOptions): Promise<string> {
    const r = await this.manager.submit({ model: o.model ?? this.defaultLlmModel, prompt, maxTokens: o.maxTokens, sampling: sampling(o), priority: o.priority, sloDeadlineMs: o.sloDeadlineMs, signal: o.signal });
    return completionText(r.body);
  }

  async *stream(messages: ChatMessageLike[], o: CallOptions): AsyncIterable<string> {
    const s = await this.manager.submitStream({ model: o.model ?? this.defaultLlmModel, messages, maxTokens: o.maxTokens, sampling: sampling(o), priority: o.priority, sloDeadlineMs: o.sloDeadlineMs, signal: o.signal });
    for await (const chunk of s) {
      const t = chunkText(chunk);
      if (t) yield t;
    }
  }

  async embed(texts: string[], o: EmbedOptions): Promise<number[][]> {
    const r = await this.manager.submit({
      model: o.model ?? this.defaultEmbeddingModel,
      input: texts,
      priority: o.priority,
      signal: o.signal,
      extraBody: o.dimensions !== undefined ? { dimensions: o.dimensions } : undefined,
    });
    const data = r.body.data as Array<{ embedding: number[] }>;
    return data.map((d) => d.embedding);
  }

  async getMetrics(): Promise<Record<string, unknown>> {
    return { mode: 'embedded', policy: this.manager.policy.name, queueLength: this.manager.queueLength, ...this.manager.getMetrics() };
  }

  /** The control plane's instances, each with its engine process (pid, state, restarts). */
  async getInstances(): Promise<InstanceInfo[]> {
    const engines = new Map(this.runtime.engines.listEngines().map((e) => [e.id, e]));
    return this.manager.getInstances().map(({ apiKey: _secret, ...i }) => {
      const e = engines.get(i.id);
      return { ...i, load: { ...i.load }, ...(e && { pid: e.pid, state: e.state, restarts: e.restarts }) };
    });
  }

  /** Current pids of the engines this backend started (a restarted engine has a new one). */
  get enginePids(): number[] {
    return pidsOf(this.runtime.engines);
  }

  /** Stops the scheduler, the supervisor and every engine, then removes the state directory; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.runtime.close();
      this.unguard();
      await rm(this.stateDir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}
