// The server's log batch: every line reaches every destination as the same UTF-8 bytes, in order, whatever the
// characters and however the lines fall across the batch's buffers; bytes handed on are never written over.
import { LineBatch } from '../src/log-batch';

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
});
