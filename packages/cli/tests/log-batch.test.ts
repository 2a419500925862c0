// The server's log batch: every line reaches every destination as the same UTF-8 bytes, in order, whatever the
// characters and however the lines fall across the batch's buffers; bytes handed on are never written over before
// every destination wrote them, and a buffer they all wrote is used again.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { LineBatch, type LineSink } from '../src/log-batch';

/** A destination that keeps what it is handed, as pino's async destinations do (no copy). */
function keeper(): { chunks: Buffer[]; write(chunk: Buffer): void; text(): string } {
  const chunks: Buffer[] = [];
  return { chunks, write: (chunk) => void chunks.push(chunk), text: () => Buffer.concat(chunks).toString('utf8') };
}

function lineOf(i: number): string {
  if (i % 7 === 0) return `{"msg":"héllo ✓ 😀 ${'é'.repeat(i % 40)}"}\n`;
  if (i % 13 === 0) return `{"msg":"${'y'.repeat(300)}"}\n`;
  return `{"i":${i}}\n`;
}

describe('LineBatch', () => {
  test.each([64, 200, 4096])('hands every line, in order, to every destination (buffers of %i bytes)', (maxBytes) => {
    const a = keeper();
    const b = keeper();
    const batch = new LineBatch([a, b], { maxBytes, maxDelayMs: 60_000 });
    let expected = '';
    for (let i = 0; i < 1500; i++) {
      const line = lineOf(i);
      batch.write(line);
      expected += line;
      if (i % 97 === 0) batch.flush();
    }
    batch.flush();
    expect(a.text()).toBe(expected);
    // The same bytes go to both: one encoding for every destination.
    expect(b.chunks).toHaveLength(a.chunks.length);
    a.chunks.forEach((chunk, i) => expect(b.chunks[i]).toBe(chunk));
  });

  test('waits for the delay, then hands the lines on together', async () => {
    const a = keeper();
    const batch = new LineBatch([a], { maxDelayMs: 5 });
    batch.write('{"n":1}\n');
    batch.write('{"n":2}\n');
    expect(a.chunks).toHaveLength(0);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (a.chunks.length === 0) return;
        clearInterval(poll);
        resolve();
      }, 1);
    });
    expect(a.chunks).toHaveLength(1);
    expect(a.text()).toBe('{"n":1}\n{"n":2}\n');
  });

  test('goes at once when the lines fill the buffer, and a flush with nothing gathered writes nothing', () => {
    const a = keeper();
    const batch = new LineBatch([a], { maxBytes: 32, maxDelayMs: 60_000 });
    batch.flush();
    expect(a.chunks).toHaveLength(0);
    batch.write(`${'x'.repeat(40)}\n`);
    expect(a.text()).toBe(`${'x'.repeat(40)}\n`);
    batch.flush();
    expect(a.chunks).toHaveLength(1);
  });

  describe('with destinations that report what they wrote', () => {
    /**
     * Keeps the chunks it is handed and writes them out (into `file`) only when told, `bytes` at a time, reporting
     * each write as sonic-boom does ('write' with the bytes written, a chunk possibly in parts).
     */
    function slowDestination(): LineSink & { file: string; heldBytes(): number; writeOut(bytes?: number): void; arrays: Set<ArrayBuffer> } {
      const held: Buffer[] = [];
      const listeners: Array<(bytes: number) => void> = [];
      const arrays = new Set<ArrayBuffer>();
      const dest = {
        file: '',
        arrays,
        write(chunk: Buffer) {
          arrays.add(chunk.buffer as ArrayBuffer);
          held.push(chunk);
        },
        on(_event: 'write', fn: (bytes: number) => void) {
          listeners.push(fn);
        },
        heldBytes: () => held.reduce((n, c) => n + c.length, 0),
        writeOut(bytes = Infinity) {
          let n = 0;
          while (held.length > 0 && n < bytes) {
            const chunk = held[0]!;
            const part = chunk.subarray(0, Math.min(chunk.length, bytes - n));
            dest.file += part.toString('latin1');
            n += part.length;
            if (part.length === chunk.length) held.shift();
            else held[0] = chunk.subarray(part.length);
          }
          for (const fn of listeners) fn(n);
        },
      };
      return dest;
    }
    const bytesOf = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

    test('a destination that stays busy gets every byte intact: nothing it holds is written over', () => {
      const busy = slowDestination();
      const fast = slowDestination();
      const batch = new LineBatch([busy, fast], { maxBytes: 1024, maxDelayMs: 60_000 });
      let expected = '';
      for (let i = 0; i < 3000; i++) {
        const line = lineOf(i);
        batch.write(line);
        expected += line;
        fast.writeOut();
        if (i % 50 === 0) batch.flush();
      }
      batch.flush();
      fast.writeOut();
      const total = Buffer.byteLength(expected);
      expect(busy.heldBytes()).toBe(total);
      busy.writeOut();
      expect(busy.file).toBe(bytesOf(expected));
      expect(fast.file).toBe(bytesOf(expected));
      // ~110 KiB through buffers of 1 KiB, all still held by the busy one: none of them was used again.
      expect(busy.arrays.size).toBeGreaterThanOrEqual(Math.floor(total / 1024));
    });

    test('a buffer is used again once every destination wrote it, in parts or whole', () => {
      const a = slowDestination();
      const b = slowDestination();
      const batch = new LineBatch([a, b], { maxBytes: 1024, maxDelayMs: 60_000 });
      let expected = '';
      for (let i = 0; i < 3000; i++) {
        const line = lineOf(i);
        batch.write(line);
        expected += line;
        // `a` writes at once; `b` falls behind in small writes (over a buffer) and catches up every 80 lines.
        a.writeOut();
        b.writeOut(i % 80 === 0 ? Infinity : 16);
        if (i % 50 === 0) batch.flush();
      }
      batch.flush();
      a.writeOut();
      b.writeOut();
      expect(a.file).toBe(bytesOf(expected));
      expect(b.file).toBe(bytesOf(expected));
      // Buffers went round (a fresh one for each of the ~110 fills had they not).
      expect(Buffer.byteLength(expected) / 1024).toBeGreaterThan(100);
      expect(a.arrays.size).toBeLessThanOrEqual(5);
    });

    test('a destination that copies what it is handed lets its buffers be used again at once', () => {
      let text = '';
      const arrays = new Set<ArrayBuffer>();
      const copier: LineSink = {
        copies: true,
        write(chunk) {
          arrays.add(chunk.buffer as ArrayBuffer);
          text += chunk.toString('utf8');
        },
      };
      const batch = new LineBatch([copier], { maxBytes: 1024, maxDelayMs: 60_000 });
      let expected = '';
      for (let i = 0; i < 2000; i++) {
        batch.write(lineOf(i));
        expected += lineOf(i);
      }
      batch.flush();
      expect(text).toBe(expected);
      expect(arrays.size).toBeLessThanOrEqual(2);
    });

    test('a pino destination (sonic-boom, buffer mode) writes every line to its file, and its buffers go round', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sage-log-batch-'));
      const file = path.join(dir, 'server.log');
      const dest = pino.destination({ dest: file, sync: false, contentMode: 'buffer' });
      try {
        await new Promise<void>((resolve) => dest.once('ready', () => resolve()));
        const arrays = new Set<ArrayBuffer>();
        const sink: LineSink = {
          write(chunk) {
            arrays.add(chunk.buffer as ArrayBuffer);
            return (dest as unknown as LineSink).write(chunk);
          },
          on: (event, fn) => dest.on(event, fn),
        };
        const batch = new LineBatch([sink], { maxBytes: 4096, maxDelayMs: 60_000 });
        let expected = '';
        for (let round = 0; round < 40; round++) {
          for (let i = 0; i < 200; i++) {
            const line = lineOf(round * 200 + i);
            batch.write(line);
            expected += line;
          }
          const drained = new Promise<void>((resolve) => dest.once('drain', () => resolve()));
          batch.flush();
          await drained;
        }
        expect(fs.readFileSync(file, 'utf8')).toBe(expected);
        // ~300 KiB through buffers of 4 KiB: ~75 fills, served by a few buffers once the first were written.
        expect(Buffer.byteLength(expected) / 4096).toBeGreaterThan(70);
        expect(arrays.size).toBeLessThanOrEqual(6);
      } finally {
        dest.destroy();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
