import {
  BYTES_PER_PARAM,
  DEFAULT_PARAMS_B,
  estimateModelMemory,
  parameterCount,
  parseParameterCount,
} from '../../src/engines/gpu';

describe('parameters from model names', () => {
  it.each([
    ['Qwen/Qwen2.5-7B-Instruct', 7],
    ['Qwen2.5-0.5B', 0.5],
    ['meta-llama/Llama-3.1-8B-Instruct', 8],
    ['meta-llama/Meta-Llama-3-70B-Instruct-AWQ', 70],
    ['mistralai/Mixtral-8x7B-Instruct-v0.1', 56],
    ['Qwen/Qwen3-30B-A3B', 30],
    ['facebook/opt-125m', 0.125],
    ['TinyLlama/TinyLlama-1.1B-Chat-v1.0', 1.1],
  ])('%s → %s B', (name, billions) => {
    expect(parseParameterCount(name)).toBeCloseTo(billions, 6);
  });

  it.each(['BAAI/bge-m3', 'gpt2', 'sage-sim-llm', 'Qwen2.5'])('%s has no size in its name', (name) => {
    expect(parseParameterCount(name)).toBeUndefined();
  });

  it('known embedding models, then documented defaults', () => {
    expect(parameterCount('BAAI/bge-m3', 'embedding')).toEqual({ billions: 0.568, source: 'known' });
    expect(parameterCount('my-private-model', 'llm')).toEqual({ billions: DEFAULT_PARAMS_B.llm, source: 'default' });
    expect(parameterCount('my-embedder', 'embedding')).toEqual({ billions: DEFAULT_PARAMS_B.embedding, source: 'default' });
  });
});

describe('memory estimate', () => {
  it('7B in bf16 on one GPU: 14 GB of weights plus headroom and runtime', () => {
    const e = estimateModelMemory('Qwen/Qwen2.5-7B-Instruct');
    expect(e.dtype).toBe('bfloat16');
    expect(e.weightsGb).toBeCloseTo(7 * BYTES_PER_PARAM.bfloat16, 5);
    expect(e.perGpuGb).toBeGreaterThan(14);
    expect(e.perGpuGb).toBeLessThan(24); // fits a 24 GB card, as it does in practice
    expect(e.gpuCount).toBe(1);
  });

  it('tensor parallelism divides the per-GPU need', () => {
    const one = estimateModelMemory('Llama-3.1-70B', { tensorParallel: 1 });
    const four = estimateModelMemory('Llama-3.1-70B', { tensorParallel: 4 });
    expect(four.gpuCount).toBe(4);
    expect(four.perGpuGb).toBeLessThan(one.perGpuGb / 3);
    expect(four.totalGb).toBeCloseTo(four.perGpuGb * 4, 1);
  });

  it('dtype: explicit, or quantisation from the name', () => {
    expect(estimateModelMemory('x-7B', { dtype: 'float32' }).weightsGb).toBeCloseTo(28, 5);
    expect(estimateModelMemory('Meta-Llama-3-70B-Instruct-AWQ').dtype).toBe('int4');
    expect(estimateModelMemory('Qwen2.5-7B-Instruct-FP8').weightsGb).toBeCloseTo(7, 5);
  });

  it('embedding models are small', () => {
    const e = estimateModelMemory('BAAI/bge-m3', { category: 'embedding' });
    expect(e.perGpuGb).toBeGreaterThan(1);
    expect(e.perGpuGb).toBeLessThan(4);
  });
});
