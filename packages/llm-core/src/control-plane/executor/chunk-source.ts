// A stream's chunks as its layers hand them on: pulled with take() and announced with whenReady(), so a chunk
// goes from the engine's socket through the failover and caller layers to the client's socket in one synchronous
// call chain. Nested async generators paid several promises and microtask turns per layer per chunk, each one
// cold on a stream whose process idles between chunks. Consumers that iterate get the same chunks through
// iterateChunks().

export type Chunk = Record<string, unknown>;

/** What take() returns once the stream is over. */
export const END: unique symbol = Symbol('end of stream');
export type Taken = Chunk | typeof END | undefined;

export interface ChunkSource {
  /**
   * The next chunk when one is in hand, END once the stream is over, undefined while the next one is owed (then
   * whenReady() says when to ask again). A stream's failure is thrown, once; END follows it.
   */
  take(): Taken;
  /**
   * The engine's own event text of the chunk take() last returned, while that chunk is that event unchanged and
   * fits on one `data:` line (a relay writes it as it came instead of serializing the chunk again).
   */
  readonly raw: string | undefined;
  /** `fn` runs once when take() has something new to say (a chunk, the end, a failure). One waiter at a time. */
  whenReady(fn: () => void): void;
  /** The consumer stops early: the upstream is released. */
  close(): Promise<void>;
}

/** The next chunk or END (a failure rejects). */
export function nextChunk(source: ChunkSource): Promise<Chunk | typeof END> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      let taken: Taken;
      try {
        taken = source.take();
      } catch (err) {
        reject(err);
        return;
      }
      if (taken === undefined) source.whenReady(attempt);
      else resolve(taken);
    };
    attempt();
  });
}

/** A source as an async iterator (a consumer that stops early with return() closes it). */
export function iterateChunks(source: ChunkSource): AsyncIterableIterator<Chunk> {
  let over = false;
  /** The last next() asked: a next() asked before it settled waits for it, as an async generator's would. */
  let last: Promise<unknown> = Promise.resolve();
  const step = async (): Promise<IteratorResult<Chunk>> => {
    if (over) return { done: true, value: undefined };
    try {
      const taken = await nextChunk(source);
      if (taken !== END) return { done: false, value: taken };
    } catch (err) {
      over = true;
      throw err;
    }
    over = true;
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<Chunk> = {
    next: () => {
      const result = last.then(step, step);
      last = result;
      return result;
    },
    return: async (value?: unknown) => {
      if (!over) {
        over = true;
        await source.close();
      }
      return { done: true, value: value as Chunk };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/** Any async iterable of chunks as a source (one next() in flight at a time). */
export function sourceOfIterable(iterable: AsyncIterable<Chunk>): ChunkSource {
  const it = iterable[Symbol.asyncIterator]();
  let result: IteratorResult<Chunk> | undefined;
  let failure: { error: unknown } | undefined;
  let pending = false;
  let over = false;
  let waiter: (() => void) | undefined;
  const settle = (): void => {
    pending = false;
    const fn = waiter;
    waiter = undefined;
    fn?.();
  };
  return {
    raw: undefined,
    take(): Taken {
      if (over) return END;
      if (failure) {
        over = true;
        throw failure.error;
      }
      if (result) {
        const r = result;
        result = undefined;
        if (!r.done) return r.value;
        over = true;
        return END;
      }
      if (!pending) {
        pending = true;
        it.next().then(
          (r) => {
            result = r;
            settle();
          },
          (error: unknown) => {
            failure = { error };
            settle();
          },
        );
      }
      return undefined;
    },
    whenReady(fn: () => void): void {
      waiter = fn;
      if (!pending) settle();
    },
    async close(): Promise<void> {
      over = true;
      await Promise.resolve(it.return?.()).catch(() => undefined);
    },
  };
}
