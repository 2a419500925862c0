import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  buildCommand,
  defaultSimMainPath,
  formatCommand,
  redactCommand,
  gpuRequired,
  resolveUseGpu,
} from '../../src/engines/kinds';
import { EngineSpecError, type EngineSpec } from '../../src';

const argAfter = (args: string[], flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};

describe('useGpu three-valued rule (F-213)', () => {
  it.each([
    ['llm', undefined, true],
    ['embedding', undefined, false],
    ['llm', true, true],
    ['embedding', true, true],
    ['llm', false, false],
    ['embedding', false, false],
  ] as const)('%s with useGpu=%s → %s', (category, useGpu, expected) => {
    expect(resolveUseGpu(category, useGpu)).toBe(expected);
  });

  it('simulators take a GPU only when asked explicitly', () => {
    expect(gpuRequired('sim-llm', 'llm', undefined)).toBe(false);
    expect(gpuRequired('sim-llm', 'llm', true)).toBe(true);
    expect(gpuRequired('sim-embedding', 'embedding', true)).toBe(true);
    expect(gpuRequired('vllm', 'llm', undefined)).toBe(true);
    expect(gpuRequired('tei', 'embedding', undefined)).toBe(false);
  });
});

describe('vllm', () => {
  const base: EngineSpec = { kind: 'vllm', model: 'Qwen/Qwen2.5-7B-Instruct', port: 8001 };

  it('serves an LLM on the GPUs it was granted', () => {
    const cmd = buildCommand({ ...base, tensorParallel: 2, gpuIds: [2, 3], maxConcurrentRequests: 64, gpuMemoryUtilization: 0.85 });
    expect(cmd.command).toBe('vllm');
    expect(cmd.args.slice(0, 2)).toEqual(['serve', 'Qwen/Qwen2.5-7B-Instruct']);
    expect(argAfter(cmd.args, '--host')).toBe('127.0.0.1');
    expect(argAfter(cmd.args, '--port')).toBe('8001');
    expect(argAfter(cmd.args, '--tensor-parallel-size')).toBe('2');
    expect(argAfter(cmd.args, '--pipeline-parallel-size')).toBe('1');
    expect(argAfter(cmd.args, '--gpu-memory-utilization')).toBe('0.85');
    expect(argAfter(cmd.args, '--max-num-seqs')).toBe('64');
    expect(cmd.args).not.toContain('--runner');
    expect(cmd.env.CUDA_VISIBLE_DEVICES).toBe('2,3');
  });

  it('defaults: 0.9 memory utilisation, TP/PP 1, no explicit grant leaves CUDA_VISIBLE_DEVICES alone', () => {
    const cmd = buildCommand(base);
    expect(argAfter(cmd.args, '--gpu-memory-utilization')).toBe('0.9');
    expect(cmd.env).not.toHaveProperty('CUDA_VISIBLE_DEVICES');
  });

  it('embedding models use the pooling runner and, by default, no GPU', () => {
    const cmd = buildCommand({ ...base, model: 'BAAI/bge-m3', category: 'embedding' });
    expect(argAfter(cmd.args, '--runner')).toBe('pooling');
    expect(cmd.args).not.toContain('--gpu-memory-utilization');
    expect(cmd.env.CUDA_VISIBLE_DEVICES).toBe('');
  });

  it('useGpu=false hides the GPUs even from an LLM; useGpu=true gives an embedding model its GPU', () => {
    expect(buildCommand({ ...base, useGpu: false }).env.CUDA_VISIBLE_DEVICES).toBe('');
    const emb = buildCommand({ ...base, category: 'embedding', useGpu: true, gpuIds: [1] });
    expect(emb.env.CUDA_VISIBLE_DEVICES).toBe('1');
    expect(argAfter(emb.args, '--gpu-memory-utilization')).toBe('0.9');
  });

  it('appends extra args last and lets spec env win', () => {
    const cmd = buildCommand({ ...base, extraArgs: ['--enforce-eager', '--max-model-len', '4096'], env: { HF_HOME: '/models' } });
    expect(cmd.args.slice(-3)).toEqual(['--enforce-eager', '--max-model-len', '4096']);
    expect(cmd.env.HF_HOME).toBe('/models');
  });
});

describe('tei', () => {
  it('builds text-embeddings-router with hostname and port, CPU by default', () => {
    const cmd = buildCommand({ kind: 'tei', model: 'BAAI/bge-m3', port: 8090, maxConcurrentRequests: 128 });
    expect(cmd.command).toBe('text-embeddings-router');
    expect(argAfter(cmd.args, '--model-id')).toBe('BAAI/bge-m3');
    expect(argAfter(cmd.args, '--hostname')).toBe('127.0.0.1');
    expect(argAfter(cmd.args, '--port')).toBe('8090');
    expect(argAfter(cmd.args, '--max-concurrent-requests')).toBe('128');
    expect(cmd.env.CUDA_VISIBLE_DEVICES).toBe('');
  });

  it('with useGpu its CUDA build sees the granted device', () => {
    expect(buildCommand({ kind: 'tei', model: 'BAAI/bge-m3', port: 8090, useGpu: true, gpuIds: [0] }).env.CUDA_VISIBLE_DEVICES).toBe('0');
  });

  it('refuses to serve an LLM', () => {
    expect(() => buildCommand({ kind: 'tei', model: 'x', port: 8090, category: 'llm' })).toThrow(EngineSpecError);
  });
});

describe('llama-cpp', () => {
  it('offloads all layers with a GPU', () => {
    const cmd = buildCommand({ kind: 'llama-cpp', model: '/models/qwen2.5-7b-q4_k_m.gguf', port: 8002, gpuIds: [0] });
    expect(cmd.command).toBe('llama-server');
    expect(argAfter(cmd.args, '-m')).toBe('/models/qwen2.5-7b-q4_k_m.gguf');
    expect(argAfter(cmd.args, '--port')).toBe('8002');
    expect(argAfter(cmd.args, '--host')).toBe('127.0.0.1');
    expect(argAfter(cmd.args, '-ngl')).toBe('999');
    expect(cmd.args).not.toContain('--embedding');
  });

  it('embedding mode on the CPU by default, on the GPU when forced', () => {
    const cpu = buildCommand({ kind: 'llama-cpp', model: 'e.gguf', port: 8091, category: 'embedding' });
    expect(cpu.args).toContain('--embedding');
    expect(argAfter(cpu.args, '-ngl')).toBe('0');
    expect(cpu.env.CUDA_VISIBLE_DEVICES).toBe('');
    const gpu = buildCommand({ kind: 'llama-cpp', model: 'e.gguf', port: 8091, category: 'embedding', useGpu: true });
    expect(argAfter(gpu.args, '-ngl')).toBe('999');
  });
});

describe('simulators', () => {
  it('sim-llm runs the built entry with node', () => {
    const cmd = buildCommand({ kind: 'sim-llm', model: 'sage-sim-llm', port: 8003, role: 'prefilling', timeScale: 0.1, maxConcurrentRequests: 8, engineId: 'e1' });
    expect(cmd.command).toBe(process.execPath);
    expect(cmd.args[0]).toBe(defaultSimMainPath());
    expect(cmd.args[1]).toBe('sim-llm');
    expect(argAfter(cmd.args, '--port')).toBe('8003');
    expect(argAfter(cmd.args, '--model')).toBe('sage-sim-llm');
    expect(argAfter(cmd.args, '--role')).toBe('prefilling');
    expect(argAfter(cmd.args, '--time-scale')).toBe('0.1');
    expect(argAfter(cmd.args, '--max-num-seqs')).toBe('8');
    expect(argAfter(cmd.args, '--engine-id')).toBe('e1');
    expect(cmd.env.CUDA_VISIBLE_DEVICES).toBe(''); // a simulator needs no GPU unless forced
  });

  it('the sim entry is the sage-engine bin that @sage/sim-engines declares in its package.json', () => {
    const main = defaultSimMainPath();
    expect(existsSync(main)).toBe(true);
    const root = path.dirname(path.dirname(main));
    const { name, bin } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
    expect(name).toBe('@sage/sim-engines');
    expect(path.resolve(root, bin['sage-engine'])).toBe(main);
  });

  it('sim-embedding passes dimensions and its concurrency flag; GPU only when forced', () => {
    const cmd = buildCommand({ kind: 'sim-embedding', model: 'sage-sim-embedding', port: 8090, dimensions: 256, maxConcurrentRequests: 4 }, { nodePath: '/usr/bin/node', simMainPath: '/x/main.js' });
    expect(cmd.command).toBe('/usr/bin/node');
    expect(cmd.args.slice(0, 2)).toEqual(['/x/main.js', 'sim-embedding']);
    expect(argAfter(cmd.args, '--dimensions')).toBe('256');
    expect(argAfter(cmd.args, '--max-concurrent')).toBe('4');
    expect(cmd.env.CUDA_VISIBLE_DEVICES).toBe('');
    const forced = buildCommand({ kind: 'sim-embedding', model: 'm', port: 8090, useGpu: true, gpuIds: [1] });
    expect(forced.env.CUDA_VISIBLE_DEVICES).toBe('1');
  });
});

describe('validation and formatting', () => {
  it.each([
    [{ port: 0 }, /port/],
    [{ port: 70000 }, /port/],
    [{ model: ' ' }, /model/],
    [{ tensorParallel: 0 }, /tensorParallel/],
    [{ gpuMemoryUtilization: 1.5 }, /gpuMemoryUtilization/],
  ])('rejects %j', (patch, re) => {
    expect(() => buildCommand({ kind: 'vllm', model: 'm', port: 8001, ...patch })).toThrow(re);
  });

  it('redacts credential flags in both forms', () => {
    expect(redactCommand(['vllm', 'serve', 'm', '--api-key', 'sk-1', '--hf-token=hf_2', '--port', '8001', '--token'])).toEqual([
      'vllm',
      'serve',
      'm',
      '--api-key',
      '***',
      '--hf-token=***',
      '--port',
      '8001',
      '--token',
    ]);
  });

  it('quotes arguments that need it', () => {
    expect(formatCommand({ command: 'vllm', args: ['serve', 'my model', "it's"] })).toBe(`vllm serve 'my model' 'it'\\''s'`);
  });
});
