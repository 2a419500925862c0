// The per-request collection of the control plane: Map semantics (insertion order, set in place, delete, clear),
// checked against a Map through a random sequence of operations.
import { RefList } from '../../src/control-plane/ref-list';
import { mulberry32 } from './policies-fixtures';

describe('RefList', () => {
  it('keeps insertion order; set on a known key changes its value in place', () => {
    const a = { n: 'a' };
    const b = { n: 'b' };
    const c = { n: 'c' };
    const l = new RefList<{ n: string }, number>();
    l.set(a, 1).set(b, 2).set(c, 3).set(a, 10);
    expect(l.size).toBe(3);
    expect(l.entries().map(([k, v]) => `${k.n}${v}`)).toEqual(['a10', 'b2', 'c3']);
    expect(l.get(b)).toBe(2);
    expect(l.delete(b)).toBe(true);
    expect(l.delete(b)).toBe(false);
    expect(l.has(b)).toBe(false);
    expect(l.get(b)).toBeUndefined();
    expect(l.first()).toBe(a);
    expect(l.delete(a)).toBe(true);
    expect(l.first()).toBe(c);
    l.set(b, 4);
    expect(l.keys()).toEqual([c, b]);
    const seen: string[] = [];
    l.walk((k) => {
      seen.push(k.n);
      return false;
    });
    expect(seen).toEqual(['c']);
    l.clear();
    expect(l.size).toBe(0);
    expect(l.first()).toBeUndefined();
    expect(l.has(c)).toBe(false);
    l.set(c, 5);
    expect(l.entries()).toEqual([[c, 5]]);
  });

  it('answers as a Map does through random sets and deletes', () => {
    const rand = mulberry32(7);
    const keys = Array.from({ length: 40 }, (_, i) => ({ i }));
    const l = new RefList<{ i: number }, number>();
    const m = new Map<{ i: number }, number>();
    for (let step = 0; step < 5000; step++) {
      const k = keys[Math.floor(rand() * keys.length)]!;
      const r = rand();
      if (r < 0.5) {
        l.set(k, step);
        m.set(k, step);
      } else if (r < 0.95) {
        expect(l.delete(k)).toBe(m.delete(k));
      } else {
        l.clear();
        m.clear();
      }
      expect(l.size).toBe(m.size);
      expect(l.has(k)).toBe(m.has(k));
      expect(l.get(k)).toBe(m.get(k));
      if (step % 97 === 0) expect(l.entries()).toEqual([...m.entries()]);
    }
  });
});
