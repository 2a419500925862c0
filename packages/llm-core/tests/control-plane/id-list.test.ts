// The per-request collection keyed by request id: Map semantics (insertion order, set in place, delete, clear),
// checked against a Map through random operations that fill, grow and empty its table.
import { IdList } from '../../src/control-plane/id-list';
import { mulberry32 } from './policies-fixtures';

describe('IdList', () => {
  it('keeps insertion order; set on a known key changes its value in place', () => {
    const l = new IdList<number>();
    l.set('a', 1).set('b', 2).set('c', 3).set('a', 10);
    expect(l.size).toBe(3);
    expect(l.keys()).toEqual(['a', 'b', 'c']);
    expect(l.get('a')).toBe(10);
    expect(l.delete('b')).toBe(true);
    expect(l.delete('b')).toBe(false);
    expect(l.has('b')).toBe(false);
    expect(l.get('b')).toBeUndefined();
    expect(l.first()).toBe('a');
    expect(l.delete('a')).toBe(true);
    expect(l.first()).toBe('c');
    l.set('b', 4);
    expect(l.keys()).toEqual(['c', 'b']);
    expect(l.values()).toEqual([3, 4]);
    l.clear();
    expect(l.size).toBe(0);
    expect(l.first()).toBeUndefined();
    expect(l.has('c')).toBe(false);
    l.set('c', 5);
    expect(l.keys()).toEqual(['c']);
    expect(l.get('c')).toBe(5);
  });

  it('keeps only the newest entries when bounded', () => {
    const l = new IdList<number>();
    for (let i = 0; i < 10; i++) l.set(`k${i}`, i);
    l.keepNewest(3);
    expect(l.keys()).toEqual(['k7', 'k8', 'k9']);
    expect(l.has('k6')).toBe(false);
    l.keepNewest(5);
    expect(l.size).toBe(3);
  });

  it.each([
    [40, 8],
    [3000, 16],
  ])('answers as a Map does through random sets and deletes (%i ids, starting at %i slots)', (ids, capacity) => {
    const rand = mulberry32(ids);
    const keys = Array.from({ length: ids }, (_, i) => `${(1_700_000_000_000 + i * 7).toString(36)}-${i}`);
    const l = new IdList<number>(capacity);
    const m = new Map<string, number>();
    for (let step = 0; step < 8000; step++) {
      const k = keys[Math.floor(rand() * keys.length)]!;
      const r = rand();
      if (r < 0.4) {
        l.set(k, step);
        m.set(k, step);
      } else if (r < 0.55) {
        // swap: set, answering what was there before.
        expect(l.swap(k, step)).toBe(m.get(k));
        m.set(k, step);
      } else if (r < 0.75) {
        expect(l.delete(k)).toBe(m.delete(k));
      } else if (r < 0.9995) {
        const value = m.get(k);
        m.delete(k);
        expect(l.take(k)).toBe(value);
      } else {
        l.clear();
        m.clear();
      }
      expect(l.size).toBe(m.size);
      expect(l.has(k)).toBe(m.has(k));
      expect(l.get(k)).toBe(m.get(k));
      expect(l.first()).toBe(m.keys().next().value);
      if (step % 997 === 0) {
        expect(l.keys()).toEqual([...m.keys()]);
        expect(l.values()).toEqual([...m.values()]);
        // Every key still in is found (a deletion must not hide the entries after it).
        for (const key of m.keys()) expect(l.get(key)).toBe(m.get(key));
      }
    }
    for (const key of keys) expect(l.get(key)).toBe(m.get(key));
  });
});
