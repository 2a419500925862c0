// The LRU behind session affinity: bounded, forgets the least recently used key first, refreshed by get and set,
// not by peek; checked against a Map-ordered model through random operations.
import { BoundedLru } from '../../src/control-plane/routing/lru';
import { mulberry32 } from './policies-fixtures';

describe('BoundedLru', () => {
  it('forgets the least recently used key once over capacity', () => {
    const l = new BoundedLru<string, number>(2);
    l.set('a', 1);
    l.set('b', 2);
    expect(l.get('a')).toBe(1); // a is now the most recent
    l.set('c', 3); // evicts b
    expect(l.peek('b')).toBeUndefined();
    expect(l.peek('a')).toBe(1);
    expect(l.size).toBe(2);
    expect(l.peek('a')).toBe(1); // peek does not refresh: a is still older than c
    l.set('d', 4);
    expect(l.peek('a')).toBeUndefined();
    expect([l.peek('c'), l.peek('d')]).toEqual([3, 4]);
    l.set('c', 30); // set refreshes and changes the value
    l.set('e', 5);
    expect(l.peek('d')).toBeUndefined();
    expect(l.peek('c')).toBe(30);
    l.retain((v) => v > 10);
    expect(l.size).toBe(1);
    l.delete('c');
    expect(l.size).toBe(0);
    expect(() => new BoundedLru(0)).toThrow(RangeError);
  });

  it('matches a Map-ordered LRU through random operations', () => {
    const rnd = mulberry32(7);
    const cap = 50;
    const l = new BoundedLru<string, number>(cap);
    const model = new Map<string, number>();
    const touch = (k: string, v: number) => {
      model.delete(k);
      model.set(k, v);
      if (model.size > cap) model.delete(model.keys().next().value as string);
    };
    for (let i = 0; i < 20_000; i++) {
      const k = `k${Math.floor(rnd() * 120)}`;
      const op = rnd();
      if (op < 0.4) {
        const v = model.get(k);
        if (v !== undefined) touch(k, v);
        expect(l.get(k)).toBe(v);
      } else if (op < 0.8) {
        touch(k, i);
        l.set(k, i);
      } else if (op < 0.9) {
        expect(l.peek(k)).toBe(model.get(k));
      } else if (op < 0.98) {
        model.delete(k);
        l.delete(k);
      } else {
        const odd = (v: number) => v % 2 === 1;
        for (const [mk, mv] of [...model]) if (!odd(mv)) model.delete(mk);
        l.retain(odd);
      }
      expect(l.size).toBe(model.size);
    }
    // Same order: evicting everything by inserting fresh keys removes the model's keys oldest first.
    const order = [...model.keys()];
    for (let f = 0; l.size < cap; f++) l.set(`fill${f}`, -1);
    for (let j = 0; j < order.length; j++) {
      l.set(`fresh${j}`, -1);
      expect(l.peek(order[j]!)).toBeUndefined();
      if (j + 1 < order.length) expect(l.peek(order[j + 1]!)).toBe(model.get(order[j + 1]!));
    }
  });
});
