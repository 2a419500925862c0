import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  applyPreset,
  builtinPresetNames,
  builtinPresetYaml,
  getBuiltinPreset,
  planPresetOnHost,
  presetEngineToStartSpec,
  validatePreset,
} from '../../src/engines/presets';
import {
  listBuiltinPresets,
  loadPreset,
  parsePreset,
  GPUResourceManager,
  planPreset,
  PortAllocator,
  PresetError,
  type EngineStartSpec,
} from '../../src';
import { mockGpusFromEnv } from '../../src/engines/gpu';

const TWO_ENGINES = `
version: 1
name: pair
description: an LLM and an embedding engine
engines:
  - name: chat
    kind: llm
    engine: vllm
    model: Qwen/Qwen2.5-7B-Instruct
    tensor_parallel: 2
    max_concurrent_requests: 32
    extra_args: ["--enforce-eager"]
    metadata: { some_key: kept as written }
  - name: embed
    kind: embedding
    model: BAAI/bge-m3
    useGpu: true
    port: 8095
`;

function issuesOf(text: string): string[] {
  try {
    parsePreset(text);
  } catch (err) {
    expect(err).toBeInstanceOf(PresetError);
    return [...(err as PresetError).issues];
  }
  throw new Error('expected the preset to be rejected');
}

describe('parsing', () => {
  it('accepts snake_case and camelCase keys and normalises them', () => {
    const p = parsePreset(TWO_ENGINES);
    expect(p.name).toBe('pair');
    expect(p.engines[0]).toMatchObject({ tensorParallel: 2, maxConcurrentRequests: 32, extraArgs: ['--enforce-eager'] });
    expect(p.engines[0].metadata).toEqual({ some_key: 'kept as written' }); // metadata is not rewritten
    expect(p.engines[1]).toMatchObject({ useGpu: true, port: 8095, kind: 'embedding' });
  });

  it('an unknown kind names the field', () => {
    const issues = issuesOf(TWO_ENGINES.replace('kind: embedding', 'kind: reranker'));
    expect(issues).toEqual([expect.stringMatching(/^engines\[1\]\.kind: expected one of llm\|embedding/)]);
  });

  it('names every bad field with its path', () => {
    const issues = issuesOf(`
version: 2
name: bad
engines:
  - name: a
    kind: llm
    engine: tgi
    model: m
    tensor_parallel: 0
    use_gpu: "yes"
  - kind: embedding
    model: e
    instance_type: PREFILL
    tensor_paralel: 2
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^version: expected 1/),
        expect.stringMatching(/^engines\[0\]\.engine: expected one of vllm\|tei\|llama-cpp\|sim-llm\|sim-embedding/),
        expect.stringMatching(/^engines\[0\]\.tensorParallel: must be at least 1/),
        expect.stringMatching(/^engines\[0\]\.useGpu: expected true or false/),
        expect.stringMatching(/^engines\[1\]\.name: required/),
        expect.stringMatching(/^engines\[1\]\.instanceType: expected one of GENERAL\|/),
        expect.stringMatching(/^engines\[1\]: unknown key tensorParalel/),
      ]),
    );
  });

  it('checks that the engine can serve the kind, names are unique, instance types fit', () => {
    const issues = issuesOf(`
version: 1
name: x
engines:
  - { name: a, kind: llm, engine: tei, model: m }
  - { name: a, kind: embedding, engine: sim-embedding, model: e }
  - { name: b, kind: embedding, model: e, instanceType: DECODING }
`);
    expect(issues).toEqual([
      'engines[0].engine: tei cannot serve kind llm',
      expect.stringMatching(/^engines\[1\]\.name: duplicate engine name "a"/),
      'engines[2].instanceType: DECODING does not fit kind embedding',
    ]);
  });

  it('not YAML, not a mapping, no engines', () => {
    expect(() => parsePreset('version: [1')).toThrow(/not valid YAML/);
    expect(() => parsePreset('- a\n- b')).toThrow(/mapping/);
    expect(issuesOf('version: 1\nname: x\nengines: []')).toEqual(['engines: at least one engine']);
  });

  it('validatePreset takes objects (JSON bodies) the same way', () => {
    expect(validatePreset({ version: 1, name: 'j', engines: [{ name: 'e', kind: 'llm', engine: 'sim-llm', model: 'm' }] }).description).toBe('');
    expect(() => validatePreset({ version: 1, name: 'j', engines: [{ name: 'e', kind: 'llm', model: 'm', tensorParallel: 1, tensor_parallel: 2 }] })).toThrow(
      /engines\[0\]\.tensorParallel: given twice/,
    );
  });
});

describe('built-in presets', () => {
  it('all parse; the embedded default is one sim-llm and one sim-embedding', () => {
    expect(builtinPresetNames()).toEqual(expect.arrayContaining(['default', 'sim-pd', 'vllm-qwen-7b']));
    expect(listBuiltinPresets()).toHaveLength(builtinPresetNames().length);
    const d = getBuiltinPreset('default');
    expect(d?.engines.map((e) => [e.kind, e.engine])).toEqual([
      ['llm', 'sim-llm'],
      ['embedding', 'sim-embedding'],
    ]);
    expect(builtinPresetYaml('default')).toMatch(/^version: 1/);
  });

  it('sim-pd has a prefilling and a decoding engine, passed to sim-llm as roles', () => {
    const p = getBuiltinPreset('sim-pd');
    const specs = p?.engines.map((e) => presetEngineToStartSpec(p.name, e)) ?? [];
    expect(specs.map((s) => [s.instanceType, s.role])).toEqual([
      ['PREFILLING', 'prefilling'],
      ['DECODING', 'decoding'],
      ['EMBEDDING', undefined],
    ]);
    expect(specs[0].id).toBe('sim-pd-prefill');
  });

  it('loadPreset: built-in names and files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sage-preset-'));
    try {
      const file = path.join(dir, 'mine.yaml');
      fs.writeFileSync(file, TWO_ENGINES);
      expect(loadPreset(file).name).toBe('pair');
      expect(loadPreset('sim-pd').engines).toHaveLength(3);
      expect(() => loadPreset('nope')).toThrow(/built-in presets are default/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dry-run plan', () => {
  it('shows engines, resolved kinds, command lines, ports and GPU needs', () => {
    // A GPU machine with vLLM and TEI installed: a declaration without `engine:` gets the real engines.
    const plan = planPreset(parsePreset(TWO_ENGINES), { simMainPath: '/sim/main.js', machine: { gpu: true, binaries: { vllm: true, tei: true } } });
    expect(plan.preset).toBe('pair');
    const [chat, embed] = plan.engines;
    expect(chat).toMatchObject({ id: 'pair-chat', engine: 'vllm', instanceType: 'GENERAL', port: 8001, portIsAuto: true, useGpu: true });
    expect(chat.gpu).toMatchObject({ count: 2, parametersB: 7 });
    expect(chat.command).toMatch(/^vllm serve Qwen\/Qwen2.5-7B-Instruct --host 127.0.0.1 --port 8001 --tensor-parallel-size 2 .*--max-num-seqs 32 --enforce-eager$/);
    // embedding without an engine → TEI; explicit port; useGpu true → GPU need
    expect(embed).toMatchObject({ engine: 'tei', port: 8095, portIsAuto: false, useGpu: true, instanceType: 'EMBEDDING' });
    expect(embed.gpu?.count).toBe(1);
    expect(embed.command).toMatch(/^text-embeddings-router --model-id BAAI\/bge-m3 --hostname 127.0.0.1 --port 8095/);
    expect(plan.gpusNeeded).toBe(3);
  });

  it('auto ports do not collide within a plan and follow the injected preview', () => {
    const p = getBuiltinPreset('sim-pd');
    if (!p) throw new Error('missing');
    expect(planPreset(p).engines.map((e) => e.port)).toEqual([8001, 8002, 8090]);
    const previewed = planPreset(p, { previewPort: (kind, taken) => (kind === 'llm' ? 9100 : 9200) + taken.length });
    expect(previewed.engines.map((e) => e.port)).toEqual([9100, 9101, 9202]);
    expect(planPreset(p).gpusNeeded).toBe(0); // simulators need no GPU
  });
});

describe('dry run against this host', () => {
  it('previews free ports without reserving them, flags taken ports and GPU needs that do not fit', async () => {
    const listening = new Set([9001]);
    const ports = new PortAllocator({ probe: async (p) => listening.has(p), ranges: { llm: { start: 9000, end: 9009 }, embedding: { start: 9010, end: 9019 } } });
    await ports.reserve(9000, 'already-running');
    await ports.reserve(9015, 'someone');
    const gpus = new GPUResourceManager({ gpus: mockGpusFromEnv({ SAGE_GPU_MOCK_COUNT: '1', SAGE_GPU_MOCK_MEMORY_GB: '24' }) });
    const preset = parsePreset(`
version: 1
name: host
engines:
  - { name: a, kind: llm, engine: vllm, model: Qwen/Qwen2.5-7B-Instruct }
  - { name: b, kind: llm, engine: vllm, model: Qwen/Qwen2.5-7B-Instruct }
  - { name: c, kind: embedding, engine: sim-embedding, model: e, port: 9015 }
  - { name: d, kind: embedding, engine: sim-embedding, model: e }
`);
    const plan = await planPresetOnHost(preset, { ports, gpus });
    expect(plan.engines.map((e) => e.port)).toEqual([9002, 9003, 9015, 9010]); // 9000 reserved, 9001 listening
    expect(ports.reservations().map((r) => r.port)).toEqual([9000, 9015]); // nothing reserved by the dry run
    const [a, b, c, d] = plan.engines;
    expect(a.check).toEqual({ ok: true, problems: [], gpuIds: [0] });
    expect(b.check?.ok).toBe(false);
    expect(b.check?.problems[0]).toMatch(/needs 1 GPU\(s\) with .* GB free each, only 0 qualify/);
    expect(c.check).toEqual({ ok: false, problems: ['port 9015 is reserved by someone'] });
    expect(d.check).toEqual({ ok: true, problems: [] });
    expect(plan.feasible).toBe(false);
    expect(gpus.listAllocations()).toEqual([]);
  });
});

describe('apply', () => {
  const preset = parsePreset(`
version: 1
name: three
engines:
  - { name: a, kind: llm, engine: sim-llm, model: m1 }
  - { name: b, kind: embedding, engine: sim-embedding, model: m2 }
  - { name: c, kind: llm, engine: sim-llm, model: m3 }
`);

  function fakeEngines(failOn?: string) {
    const running = new Set<string>();
    const calls: string[] = [];
    return {
      running,
      calls,
      start: async (spec: EngineStartSpec) => {
        calls.push(`start ${spec.label}`);
        if (spec.label === failOn) throw new Error(`${spec.label} exited with code 1`);
        running.add(spec.id ?? '');
        return spec.id ?? '';
      },
      stop: async (id: string) => {
        calls.push(`stop ${id}`);
        running.delete(id);
      },
    };
  }

  it('starts every engine in order', async () => {
    const f = fakeEngines();
    const r = await applyPreset(preset, f);
    expect(r.ok).toBe(true);
    expect(f.calls).toEqual(['start a', 'start b', 'start c']);
    expect(r.started.map((s) => s.result)).toEqual(['three-a', 'three-b', 'three-c']);
  });

  it('second engine fails → the first is stopped (rollback), the third never starts', async () => {
    const f = fakeEngines('b');
    const r = await applyPreset(preset, f);
    expect(r.ok).toBe(false);
    expect(r.failed).toEqual({ name: 'b', error: 'b exited with code 1' });
    expect(f.calls).toEqual(['start a', 'start b', 'stop three-a']);
    expect(r.rolledBack).toEqual(['a']);
    expect(r.started).toEqual([]);
    expect(f.running.size).toBe(0);
  });

  it('rollback: false leaves the started engines running', async () => {
    const f = fakeEngines('c');
    const r = await applyPreset(preset, { ...f, rollback: false });
    expect(r.ok).toBe(false);
    expect(r.started.map((s) => s.name)).toEqual(['a', 'b']);
    expect([...f.running]).toEqual(['three-a', 'three-b']);
  });

  it('a failing rollback is reported, not hidden', async () => {
    const f = fakeEngines('c');
    const r = await applyPreset(preset, {
      ...f,
      stop: async (id: string) => {
        if (id === 'three-b') throw new Error('stuck');
        await f.stop(id);
      },
    });
    expect(r.rolledBack).toEqual(['a']);
    expect(r.rollbackErrors).toEqual([{ name: 'b', error: 'stuck' }]);
    expect(r.started.map((s) => s.name)).toEqual(['b']);
  });
});
