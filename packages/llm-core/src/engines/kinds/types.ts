// Engine kinds and the spec a command builder turns into a command line (F-210, F-213).

export const ENGINE_KINDS = ['vllm', 'tei', 'llama-cpp', 'sim-llm', 'sim-embedding'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/** What an engine serves: text generation or embeddings. */
export const ENGINE_CATEGORIES = ['llm', 'embedding'] as const;
export type EngineCategory = (typeof ENGINE_CATEGORIES)[number];

/** Role of an LLM engine under prefill/decode separation (passed to sim-llm as --role). */
export type EngineRole = 'general' | 'prefilling' | 'decoding';

export interface EngineSpec {
  kind: EngineKind;
  /** Model id (vllm, tei, sim-*) or GGUF file path (llama-cpp). */
  model: string;
  port: number;
  /** Interface to bind; default 127.0.0.1 (never all interfaces unless asked). */
  host?: string;
  /** Needed only for kinds that serve both (vllm, llama-cpp); default: the kind's natural category. */
  category?: EngineCategory;
  tensorParallel?: number;
  pipelineParallel?: number;
  /** vLLM's share of each GPU's memory, 0..1. */
  gpuMemoryUtilization?: number;
  /** Three-valued (F-213): undefined → LLMs use a GPU and embedding engines do not. */
  useGpu?: boolean;
  /** GPUs granted by the GPU manager; become CUDA_VISIBLE_DEVICES. */
  gpuIds?: readonly number[];
  maxConcurrentRequests?: number;
  /** Embedding output size (sim-embedding). */
  dimensions?: number;
  role?: EngineRole;
  /** Engine id, for engines that report it (sim-llm puts it in kv_transfer_params). */
  engineId?: string;
  /** Simulators: wall seconds per model second (0.1 = ten times faster). */
  timeScale?: number;
  /** Appended verbatim, after the generated flags. */
  extraArgs?: readonly string[];
  /** Extra environment for the process (wins over generated variables). */
  env?: Readonly<Record<string, string>>;
}

/** A process to run: the environment holds only additions to the parent's environment. */
export interface CommandLine {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface CommandBuildOptions {
  /** Node binary for the built-in engines; default process.execPath. */
  nodePath?: string;
  /** Entry of the built-in engines; default: the `sage-engine` bin of @sage/sim-engines. */
  simMainPath?: string;
}
