// F-207 end to end: with enablePdSeparation a long prompt is prefilled on the PREFILLING engine (vLLM's
// kv_transfer_params {do_remote_decode: true}, max_tokens 1) and decoded on the DECODING engine with the
// kv_transfer_params the prefill returned; both engines' own counters show it. Short prompts skip it.
import { ControlPlaneManager } from '../../src/control-plane/manager';
import { InstanceType } from '../../src/control-plane/types';
import type { LaunchedEngine } from '../../src/testing';
import { answerOf, engineMetric, startEngine, stopAll } from './integration-helpers';

const PREFILLS = 'sage_sim:kv_transfer_prefills_total';
const DECODES = 'sage_sim:kv_transfer_decodes_total';

function longContext(word: string) {
  const filler = Array.from({ length: 30 }, (_, i) => `Note ${i}: the archive shelf ${i} holds ledgers about harbour tariffs.`).join(' ');
  return [
    { role: 'system', content: `Answer from this context. Context: ${filler} The vault password is ${word}.` },
    { role: 'user', content: 'What is the vault password?' },
  ];
}

describe('prefill/decode separation against real sim engines', () => {
  let prefill: LaunchedEngine;
  let decode: LaunchedEngine;
  let manager: ControlPlaneManager;
  beforeAll(async () => {
    [prefill, decode] = await Promise.all([
      startEngine({ kind: 'sim-llm', model: 'sim-pd', role: 'prefilling', timeScale: 0.05 }),
      startEngine({ kind: 'sim-llm', model: 'sim-pd', role: 'decoding', timeScale: 0.05 }),
    ]);
    manager = new ControlPlaneManager({ policy: 'fifo', router: 'topology_aware', enablePdSeparation: true, pdMinInputTokens: 200, pdMinInputOutputRatio: 2 });
    manager.registerInstance({ id: 'P', baseUrl: prefill.baseUrl, models: ['sim-pd'], type: InstanceType.PREFILLING, topology: { machineId: 'm1', nvlinkPeers: ['D'] } });
    manager.registerInstance({ id: 'D', baseUrl: decode.baseUrl, models: ['sim-pd'], type: InstanceType.DECODING, topology: { machineId: 'm1', nvlinkPeers: ['P'] } });
  });
  afterAll(async () => {
    await manager.close();
    await stopAll();
  });

  async function counters() {
    return { p: await engineMetric(prefill, PREFILLS), d: await engineMetric(decode, DECODES), pd: await engineMetric(prefill, DECODES), dp: await engineMetric(decode, PREFILLS) };
  }

  it('prefills on the PREFILLING engine and decodes on the DECODING engine', async () => {
    const before = await counters();
    const r = await manager.submit({ model: 'sim-pd', messages: longContext('OSPREY-42'), maxTokens: 24 });
    const after = await counters();
    expect(r.prefillInstanceId).toBe('P');
    expect(r.instanceId).toBe('D');
    expect(r.decision.decodeInstanceId).toBe('D');
    expect(answerOf(r.body)).toContain('OSPREY-42');
    expect(after.p - before.p).toBe(1);
    expect(after.d - before.d).toBe(1);
    expect(after.pd - before.pd).toBe(0);
    expect(after.dp - before.dp).toBe(0);
  });

  it('streams the decode of a separated request', async () => {
    const before = await counters();
    const s = await manager.submitStream({ model: 'sim-pd', messages: longContext('HERON-7'), maxTokens: 24 });
    let text = '';
    for await (const chunk of s) {
      const delta = (chunk.choices as Array<{ delta?: { content?: string } }>)[0]?.delta?.content;
      if (delta) text += delta;
    }
    const after = await counters();
    expect(s.prefillInstanceId).toBe('P');
    expect(s.instanceId).toBe('D');
    expect(text).toContain('HERON-7');
    expect(after.p - before.p).toBe(1);
    expect(after.d - before.d).toBe(1);
  });

  it('skips separation for a short prompt', async () => {
    const before = await counters();
    const r = await manager.submit({ model: 'sim-pd', messages: [{ role: 'user', content: 'Say hello.' }], maxTokens: 8 });
    const after = await counters();
    expect(r.prefillInstanceId).toBeUndefined();
    expect(after).toEqual(before);
  });
});
