// deploy/kubernetes agrees with the code: ports, probe paths, the state store address, Service names, and the
// `sage` command lines (every flag exists, URLs point at the Services and ports the manifests declare).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_REDIS_PORT, defaultSettings, parseStateStoreUrl, startControlPlaneServer } from '@sage/llm-core';
import YAML from 'yaml';
import { buildProgram } from '../src/program';
import { DEFAULT_API_BASE } from '../src/api';

jest.setTimeout(60_000);

const DIR = path.resolve(__dirname, '..', '..', '..', 'deploy', 'kubernetes');

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface Resource {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    selector?: Record<string, string> & { matchLabels?: Record<string, string> };
    ports?: Array<{ name: string; port: number; targetPort: string | number }>;
    template?: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
}

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const resources: Resource[] = files
  .filter((f) => f !== 'kustomization.yaml')
  .flatMap((f) =>
    YAML.parseAllDocuments(fs.readFileSync(path.join(DIR, f), 'utf8')).map((doc) => {
      if (doc.errors.length) throw new Error(`${f}: ${doc.errors[0]!.message}`);
      return doc.toJS() as Resource;
    }),
  );
const find = (kind: string, name: string): Resource => {
  const r = resources.find((x) => x.kind === kind && x.metadata.name === name);
  if (!r) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return r;
};
const deployments = resources.filter((r) => r.kind === 'Deployment');
const containerPort = (c: Container, port: string | number) => (typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort);

/** The long flags a `sage` subcommand accepts, read from the command tree itself. */
function flagsOf(...names: string[]): Set<string> {
  const ctx = { home: { root: '/nonexistent' }, out: { write: () => true }, argv: [], exitCode: 0 } as unknown as Parameters<typeof buildProgram>[0];
  let cmd: Command = buildProgram(ctx);
  for (const n of names) {
    const next = cmd.commands.find((c) => c.name() === n);
    if (!next) throw new Error(`no command sage ${names.join(' ')}`);
    cmd = next;
  }
  return new Set(cmd.options.flatMap((o) => [o.long, o.negate ? o.long : undefined]).filter((x): x is string => Boolean(x)));
}

/** Words of a shell command line (double quotes kept together, $VARS left as they are). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The flags of the `sage …` invocation in a shell script, as a map (repeatable flags keep the last value). */
function sageCall(script: string, sub: string): Map<string, string> {
  const at = script.indexOf(`sage ${sub}`);
  expect(at).toBeGreaterThanOrEqual(0);
  const rest = words(script.slice(at + `sage ${sub}`.length).split(/\|\||;/)[0]!);
  const out = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (!w.startsWith('--')) {
      out.set(`#${out.size}`, w);
      continue;
    }
    const value = rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--') ? rest[++i]! : 'true';
    out.set(w, value);
  }
  return out;
}

test('kustomization lists every manifest, and each Deployment selects its own pods', () => {
  const kustomization = YAML.parse(fs.readFileSync(path.join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml').sort());
  for (const d of deployments) {
    for (const [k, v] of Object.entries(d.spec.selector?.matchLabels ?? {})) expect(d.spec.template?.metadata.labels[k]).toBe(v);
  }
  for (const s of resources.filter((r) => r.kind === 'Service')) {
    const target = deployments.find((d) => Object.entries(s.spec.selector ?? {}).every(([k, v]) => d.spec.template?.metadata.labels[k] === v));
    expect(target).toBeDefined();
    for (const p of s.spec.ports ?? []) expect(containerPort(target!.spec.template!.spec.containers[0]!, p.targetPort)).toBe(p.port);
  }
});

test('control plane: the port, the start flags and the probes are the ones the code has', async () => {
  const cp = find('Deployment', 'sage-control-plane').spec.template!.spec.containers[0]!;
  const svc = find('Service', 'sage-control-plane');
  const defaultPort = defaultSettings().port;
  expect(new URL(DEFAULT_API_BASE).port).toBe(String(defaultPort));
  expect(containerPort(cp, 'http')).toBe(defaultPort);
  expect(svc.spec.ports?.[0]?.port).toBe(defaultPort);

  const [bin, group, action, ...args] = cp.command ?? [];
  expect([bin, group, action]).toEqual(['sage', 'inference', 'start']);
  const startFlags = flagsOf('inference', 'start');
  for (const a of args.filter((x) => x.startsWith('--'))) expect(startFlags).toContain(a);
  expect(args[args.indexOf('--port') + 1]).toBe(String(defaultPort));
  expect(args[args.indexOf('--preset') + 1]).toBe('none');

  // The state store: a valid address naming the Redis Service and its port.
  const store = parseStateStoreUrl(cp.env?.find((e) => e.name === 'SAGE_STATE_STORE')?.value);
  const redisSvc = find('Service', 'sage-redis');
  const redis = find('Deployment', 'sage-redis').spec.template!.spec.containers[0]!;
  expect(store.kind).toBe('redis');
  if (store.kind !== 'redis') return;
  expect(store.host).toBe(redisSvc.metadata.name);
  expect(store.port).toBe(redisSvc.spec.ports?.[0]?.port);
  expect(store.port).toBe(DEFAULT_REDIS_PORT);
  expect(containerPort(redis, redisSvc.spec.ports![0]!.targetPort)).toBe(DEFAULT_REDIS_PORT);

  // The probe paths answer 200 on a real control plane.
  expect(cp.readinessProbe?.httpGet?.path).toBe('/health/ready');
  // Liveness looks at the process only: engines being down must not restart the control plane.
  expect(cp.livenessProbe?.httpGet?.path).toBe('/health/live');
  // The image's HEALTHCHECK asks the same path, on the port its CMD starts the control plane on.
  const dockerfile = fs.readFileSync(path.resolve(DIR, '..', 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^CMD \[.*"--port", "(\d+)"/m);
  expect(/^CMD \[.*"--port", "(\d+)"/m.exec(dockerfile)?.[1]).toBe(String(defaultPort));
  expect(/^HEALTHCHECK [\s\S]*?fetch\('([^']+)'\)/m.exec(dockerfile)?.[1]).toBe(`http://127.0.0.1:${defaultPort}/health/live`);
  expect(containerPort(cp, cp.readinessProbe!.httpGet!.port)).toBe(defaultPort);
  expect(containerPort(cp, cp.livenessProbe!.httpGet!.port)).toBe(defaultPort);
  const server = await startControlPlaneServer({ port: 0, preset: false, auth: { apiKeys: [] } });
  try {
    for (const probe of [cp.readinessProbe!.httpGet!.path, cp.livenessProbe!.httpGet!.path]) expect((await fetch(`${server.url}${probe}`)).status).toBe(200);
  } finally {
    await server.close(1000);
  }
});

test.each(['sage-vllm', 'sage-tei'])('%s: its sidecar registers the engine at its own port with the control-plane Service', (name) => {
  const containers = find('Deployment', name).spec.template!.spec.containers;
  const engine = containers[0]!;
  const sidecar = containers.find((c) => c.name === 'register')!;
  expect(sidecar).toBeDefined();
  const script = (sidecar.command ?? []).join(' ');
  const call = sageCall(script, 'llm engine register');
  const registerFlags = flagsOf('llm', 'engine', 'register');
  for (const flag of [...call.keys()].filter((k) => k.startsWith('--'))) expect(registerFlags).toContain(flag);

  const url = new URL(call.get('--url')!.replace('$POD_IP', '10.0.0.1'));
  expect(Number(url.port)).toBe(containerPort(engine, 'http'));
  expect(url.pathname).toBe('/v1');
  const engineArgs = engine.args ?? [];
  const modelFlag = engineArgs.includes('--model') ? '--model' : '--model-id';
  expect(call.get('--model')).toBe(engineArgs[engineArgs.indexOf(modelFlag) + 1]);
  expect(engineArgs[engineArgs.indexOf('--port') + 1]).toBe(url.port);
  expect(['llm', 'embedding']).toContain(call.get('--kind'));

  const svc = find('Service', 'sage-control-plane');
  const apiBase = `http://${svc.metadata.name}:${svc.spec.ports![0]!.port}`;
  expect(call.get('--api-base')).toBe(apiBase);
  const stop = sageCall((sidecar.lifecycle?.preStop?.exec?.command ?? []).join(' '), 'llm engine stop');
  expect(stop.get('--api-base')).toBe(apiBase);
  for (const flag of [...stop.keys()].filter((k) => k.startsWith('--'))) expect(flagsOf('llm', 'engine', 'stop')).toContain(flag);
});

test('monitoring/: a ServiceMonitor scrapes every control-plane replica with honorLabels, keeping the engine in `instance`', async () => {
  const dir = path.join(DIR, 'monitoring');
  const own = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  const kustomization = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  expect([...kustomization.resources].sort()).toEqual(['..', ...own].sort()); // the whole deployment, plus its monitor
  interface ServiceMonitor {
    kind: string;
    spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string; honorLabels?: boolean }> };
  }
  const monitors = own
    .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as ServiceMonitor))
    .filter((r) => r.kind === 'ServiceMonitor');
  expect(monitors).toHaveLength(1);
  const monitor = monitors[0]!;
  const svc = find('Service', 'sage-control-plane');
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) expect(svc.metadata.labels?.[k]).toBe(v);
  expect(monitor.spec.endpoints).toEqual([{ port: svc.spec.ports![0]!.name, path: '/metrics', interval: expect.any(String), honorLabels: true }]);

  // What honorLabels keeps: the control plane's series carry an `instance` label naming the engine, which a scrape
  // would otherwise overwrite with the pod's address.
  const server = await startControlPlaneServer({ port: 0, preset: false, auth: { apiKeys: [] } });
  try {
    server.runtime.manager.registerInstance({ id: 'engine-a', baseUrl: 'http://127.0.0.1:9/v1', models: ['m'] });
    const text = await (await fetch(`${server.url}${monitor.spec.endpoints[0]!.path}`)).text();
    expect(text).toMatch(/^vllm:num_requests_running\{[^}]*instance="engine-a"[^}]*\} /m);
  } finally {
    await server.close(1000);
  }
});
