// The per-request series of /metrics are updated through handles kept per label set (no labels object and no lookup
// by label name per request). Read back, they must count each request under the labels it had when it finished:
// its outcome and priority, its deadline verdict, and the model label as the registered instances bound it then.
import { ControlPlaneManager, RequestPriority, type RequestRecord } from '../../src';
import { ControlPlaneMetrics } from '../../src/server/prometheus';

let manager: ControlPlaneManager;
let metrics: ControlPlaneMetrics;

beforeEach(() => {
  manager = new ControlPlaneManager({ engineMetricsPollMs: 0, instances: [{ id: 'i1', baseUrl: 'http://127.0.0.1:9/v1', models: ['m1'] }] });
  metrics = new ControlPlaneMetrics(manager);
});
afterEach(async () => {
  await manager.close();
});

/** The value of the sample `name{labels}` in the text exposition (undefined when absent). */
async function sample(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const m = /^([^{\s]+)\{(.*)\} (\S+)$/.exec(line);
    if (m?.[1] === name && m[2]!.split(',').sort().join(',') === want) return Number(m[3]);
  }
  return undefined;
}

const finished = (r: Partial<RequestRecord>) => manager.emit('finished', { requestId: 'x', outcome: 'completed', ...r });

it('counts each outcome per priority, deadlines met or missed per priority, and queue waits', async () => {
  const { HIGH, NORMAL, LOW } = RequestPriority;
  finished({ priority: HIGH, instanceId: 'i1', queueWaitMs: 5, e2eMs: 20, sloDeadlineMs: 100 });
  finished({ priority: HIGH, instanceId: 'i1', queueWaitMs: 5, e2eMs: 200, sloDeadlineMs: 100 });
  finished({ priority: LOW, outcome: 'failed', sloDeadlineMs: 100 });
  finished({ priority: LOW, outcome: 'rejected', rejectionCode: 'queue_full' });
  finished({ outcome: 'cancelled' });
  // A priority outside the known ones counts as normal, as no priority does.
  finished({ priority: 9 as RequestPriority, instanceId: 'i1', e2eMs: 1 });
  finished({ priority: NORMAL, instanceId: 'i1', e2eMs: 1 });
  expect(await sample('sage_requests_total', { outcome: 'completed', priority: 'high' })).toBe(2);
  expect(await sample('sage_requests_total', { outcome: 'completed', priority: 'normal' })).toBe(2);
  expect(await sample('sage_requests_total', { outcome: 'failed', priority: 'low' })).toBe(1);
  expect(await sample('sage_requests_total', { outcome: 'rejected', priority: 'low' })).toBe(1);
  expect(await sample('sage_requests_total', { outcome: 'cancelled', priority: 'normal' })).toBe(1);
  expect(await sample('sage_requests_total', { outcome: 'completed', priority: 'low' })).toBeUndefined();
  expect(await sample('sage_slo_requests_total', { met: 'true', priority: 'high' })).toBe(1);
  expect(await sample('sage_slo_requests_total', { met: 'false', priority: 'high' })).toBe(1);
  expect(await sample('sage_slo_requests_total', { met: 'false', priority: 'low' })).toBe(1);
  expect(await sample('sage_slo_requests_total', { met: 'true', priority: 'low' })).toBe(0);
  expect(await sample('sage_requests_rejected_total', { reason: 'queue_full' })).toBe(1);
  expect((await metrics.registry.metrics()).match(/^sage_queue_wait_seconds_count (\S+)$/m)?.[1]).toBe('2');
});

it('labels a model registered after requests named it with its own name from then on', async () => {
  finished({ model: 'm2', instanceId: 'i1', e2eMs: 1, finishReason: 'length' });
  expect(await sample('vllm:request_success_total', { model_name: 'other', instance: 'i1', finished_reason: 'length' })).toBe(1);
  manager.registerInstance({ id: 'i2', baseUrl: 'http://127.0.0.1:9/v1', models: ['m2'] });
  finished({ model: 'm2', instanceId: 'i1', e2eMs: 1, finishReason: 'length' });
  finished({ model: 'm2', instanceId: 'i1', e2eMs: 1, finishReason: 'stop' });
  expect(await sample('vllm:request_success_total', { model_name: 'm2', instance: 'i1', finished_reason: 'length' })).toBe(1);
  expect(await sample('vllm:request_success_total', { model_name: 'm2', instance: 'i1', finished_reason: 'stop' })).toBe(1);
  expect(await sample('vllm:request_success_total', { model_name: 'other', instance: 'i1', finished_reason: 'length' })).toBe(1);
  // A request naming no model runs as its instance's first model.
  finished({ model: '', instanceId: 'i2', e2eMs: 1 });
  expect(await sample('vllm:request_success_total', { model_name: 'm2', instance: 'i2', finished_reason: 'stop' })).toBe(1);
});

it('counts HTTP requests under their route, model and status however consecutive requests differ', async () => {
  // Runs of the same labels (kept handles) and changes in each label (a series found by its labels).
  const seen: Array<[string, string | undefined, number]> = [
    ['/v1/chat/completions', 'm1', 200],
    ['/v1/chat/completions', 'm1', 200],
    ['/v1/chat/completions', 'm1', 429],
    ['/v1/chat/completions', 'm1', 200],
    ['/v1/chat/completions', 'nope', 200],
    ['/v1/embeddings', 'm1', 200],
    ['/v1/chat/completions', 'm1', 200],
    ['/v1/chat/completions', undefined, 400],
  ];
  for (const [route, model, status] of seen) metrics.observeHttp(route, model, status, 0.002);
  expect(await sample('sage_http_requests_total', { route: '/v1/chat/completions', model: 'm1', status: '200' })).toBe(4);
  expect(await sample('sage_http_requests_total', { route: '/v1/chat/completions', model: 'm1', status: '429' })).toBe(1);
  expect(await sample('sage_http_requests_total', { route: '/v1/chat/completions', model: 'other', status: '200' })).toBe(1);
  expect(await sample('sage_http_requests_total', { route: '/v1/chat/completions', model: '', status: '400' })).toBe(1);
  expect(await sample('sage_http_requests_total', { route: '/v1/embeddings', model: 'm1', status: '200' })).toBe(1);
  expect(await sample('sage_http_request_duration_seconds_count', { route: '/v1/chat/completions' })).toBe(7);
  expect(await sample('sage_http_request_duration_seconds_count', { route: '/v1/embeddings' })).toBe(1);

  // A model registered later: the same name, right after the previous request's, is now its own label.
  metrics.observeHttp('/v1/chat/completions', 'm2', 200, 0.002);
  manager.registerInstance({ id: 'i2', baseUrl: 'http://127.0.0.1:9/v1', models: ['m2'] });
  metrics.observeHttp('/v1/chat/completions', 'm2', 200, 0.002);
  expect(await sample('sage_http_requests_total', { route: '/v1/chat/completions', model: 'other', status: '200' })).toBe(2);
  expect(await sample('sage_http_requests_total', { route: '/v1/chat/completions', model: 'm2', status: '200' })).toBe(1);
});
