// The virtual capacity of one scheduling call: its total of free slots follows every placement, and is what
// summing each instance's free slots again gives, whatever the instances (repeated ids, fractional loads).
import { CapacityView } from '../../src/control-plane/policies/capacity';
import { inst, mulberry32 } from './policies-fixtures';

describe('CapacityView', () => {
  it.each([1, 2, 3, 4, 5, 6])('keeps its total of free slots equal to the sum over instances through random placements (seed %i)', (seed) => {
    const r = mulberry32(seed);
    const ids = Array.from({ length: 1 + Math.floor(r() * 6) }, (_, k) => `i${k}`);
    // Some ids repeat (the last one counts), some loads are fractional or above the slots.
    const instances = Array.from({ length: ids.length + Math.floor(r() * 3) }, () => {
      const id = ids[Math.floor(r() * ids.length)]!;
      const active = r() < 0.2 ? r() * 5 : Math.floor(r() * 7);
      return inst(id, { maxConcurrency: Math.floor(r() * 6) + (r() < 0.2 ? 0.5 : 0), load: { activeRequests: active } });
    });
    const cap = new CapacityView(instances);
    const sum = () => [...new Set(instances.map((i) => i.id))].reduce((n, id) => n + cap.free(id), 0);
    for (let k = 0; k < 40; k++) {
      expect(cap.totalFree()).toBeCloseTo(sum(), 12);
      const id = ids[Math.floor(r() * ids.length)]!;
      if (cap.free(id) > 0) {
        cap.take(id);
      } else {
        expect(() => cap.take(id)).toThrow(/no free slot/);
      }
    }
    expect(cap.totalFree()).toBeCloseTo(sum(), 12);
  });

  it('counts one slot fewer per placement and none below zero', () => {
    const cap = new CapacityView([inst('a', { maxConcurrency: 2 }), inst('b', { maxConcurrency: 1, load: { activeRequests: 1 } })]);
    expect(cap.totalFree()).toBe(2);
    cap.take('a');
    expect(cap.totalFree()).toBe(1);
    cap.take('a');
    expect(cap.totalFree()).toBe(0);
    expect(() => cap.take('b')).toThrow(/no free slot/);
    expect(cap.totalFree()).toBe(0);
  });
});
