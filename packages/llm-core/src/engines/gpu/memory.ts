// GPU memory estimate from a model's name (F-212): parameters × bytes per dtype ÷ TP + KV-cache headroom.

export type Dtype = 'float32' | 'float16' | 'bfloat16' | 'fp8' | 'int8' | 'int4';

export const BYTES_PER_PARAM: Readonly<Record<Dtype, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
};

/** Used when the name gives no size and the model is not in KNOWN_SIZES_B. */
export const DEFAULT_PARAMS_B: Readonly<Record<'llm' | 'embedding', number>> = { llm: 7, embedding: 0.6 };
/** Share of the weights reserved on top for the KV cache, activations and CUDA graphs. */
export const DEFAULT_KV_HEADROOM = 0.3;
/** Per-GPU fixed cost of the CUDA context and runtime, GB. */
export const DEFAULT_RUNTIME_OVERHEAD_GB = 1;

/** Sizes (billions of parameters) of common models whose names carry none. */
const KNOWN_SIZES_B: ReadonlyArray<[RegExp, number]> = [
  [/bge-m3/i, 0.568],
  [/bge-(large|reranker-large)/i, 0.335],
  [/bge-base/i, 0.109],
  [/bge-small/i, 0.033],
  [/all-minilm-l6/i, 0.023],
  [/all-minilm-l12/i, 0.033],
  [/all-mpnet-base/i, 0.109],
  [/e5-large/i, 0.335],
  [/e5-base/i, 0.109],
  [/e5-small/i, 0.033],
  [/nomic-embed-text/i, 0.137],
  [/gte-large/i, 0.335],
  [/gte-base/i, 0.109],
];

export interface ParamCount {
  billions: number;
  source: 'name' | 'known' | 'default';
}

/**
 * Parameters from the model name: `Qwen2.5-7B-Instruct` → 7, `Qwen2.5-0.5B` → 0.5, `opt-125m` → 0.125,
 * `Mixtral-8x7B` → 56, `Qwen3-30B-A3B` → 30 (the first size token; active-parameter suffixes are ignored).
 * A size token must start a word, so version numbers like the `2.5` in Qwen2.5 are not taken for sizes.
 */
export function parseParameterCount(model: string): number | undefined {
  const base = model.split('/').pop() ?? model;
  const m = /(?:^|[^A-Za-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)([BbMm])(?![A-Za-z0-9])/.exec(base);
  if (!m) return undefined;
  const experts = m[1] ? Number(m[1]) : 1;
  const value = Number(m[2]) * experts;
  return m[3].toLowerCase() === 'b' ? value : value / 1000;
}

export function parameterCount(model: string, category: 'llm' | 'embedding' = 'llm'): ParamCount {
  const parsed = parseParameterCount(model);
  if (parsed !== undefined) return { billions: parsed, source: 'name' };
  const known = KNOWN_SIZES_B.find(([re]) => re.test(model));
  if (known) return { billions: known[1], source: 'known' };
  return { billions: DEFAULT_PARAMS_B[category], source: 'default' };
}

/** Quantisation visible in the name (AWQ/GPTQ/int4, FP8, int8); otherwise the half-precision default. */
export function dtypeFromName(model: string): Dtype | undefined {
  if (/(awq|gptq|int4|4bit|q4)/i.test(model)) return 'int4';
  if (/fp8/i.test(model)) return 'fp8';
  if (/(int8|8bit|q8)/i.test(model)) return 'int8';
  return undefined;
}

export interface MemoryEstimateOptions {
  category?: 'llm' | 'embedding';
  /** Default: from the name, else bfloat16. */
  dtype?: Dtype;
  tensorParallel?: number;
  pipelineParallel?: number;
  kvHeadroom?: number;
  runtimeOverheadGb?: number;
}

export interface MemoryEstimate {
  parametersB: number;
  parametersSource: ParamCount['source'];
  dtype: Dtype;
  weightsGb: number;
  /** Memory each GPU must have free. */
  perGpuGb: number;
  gpuCount: number;
  totalGb: number;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

export function estimateModelMemory(model: string, options: MemoryEstimateOptions = {}): MemoryEstimate {
  const category = options.category ?? 'llm';
  const params = parameterCount(model, category);
  const dtype = options.dtype ?? dtypeFromName(model) ?? 'bfloat16';
  const gpuCount = Math.max(1, options.tensorParallel ?? 1) * Math.max(1, options.pipelineParallel ?? 1);
  const weightsGb = params.billions * BYTES_PER_PARAM[dtype];
  // Embedding models keep no KV cache between requests: only activations, a smaller headroom.
  const headroom = options.kvHeadroom ?? (category === 'embedding' ? DEFAULT_KV_HEADROOM / 3 : DEFAULT_KV_HEADROOM);
  const perGpuGb = (weightsGb / gpuCount) * (1 + headroom) + (options.runtimeOverheadGb ?? DEFAULT_RUNTIME_OVERHEAD_GB);
  return {
    parametersB: params.billions,
    parametersSource: params.source,
    dtype,
    weightsGb: round2(weightsGb),
    perGpuGb: round2(perGpuGb),
    gpuCount,
    totalGb: round2(perGpuGb * gpuCount),
  };
}
