// One JSON call to an engine, read whole: the handler undici dispatches to, the call's abort (the caller's signal, its
// timeout, a cut by the executor) and the answer's bytes. It goes through undici's dispatch API rather than
// `request()`, which per answer makes an async resource, a parsed header object and a Readable stream only for the
// body to be read to its end at once. The handler is undici's classic one (onConnect … onComplete): the one its own
// `request()` uses, which undici calls without wrapping it.
import type { Dispatcher } from 'undici';
import { errors } from 'undici';
import type { ExecutionInstance } from '../types';
import type { CallOptions, JsonResult, JsonSink } from './call-types';
import { CallAbort } from './upstream-call';

/**
 * What makes a call's result (the executor, which knows the engine and how a failure is classified): the call hands
 * it to its sink, with no promise or async frame on the way.
 */
export interface JsonCallOwner {
  /** The result of a whole answer (a UTF-8 BOM dropped, as undici's `text()` does); throws for a failed one. */
  result(call: JsonCall, status: number, text: string): JsonResult;
  /** The error the caller gets for what ended the call. */
  failure(call: JsonCall, err: unknown): unknown;
  /** The call is over, whatever its outcome: nothing of it outlives this (timer, listener, place among waiting calls). */
  over(call: JsonCall): void;
}

/**
 * Hands `err` to `sink` a microtask later, as a rejection reached its handler: a failure can come inside the caller's
 * own code (a dispatch that fails at once, a cut or an abort it made), which must not find it handled mid-way. What
 * the sink throws is reported as a throwing promise callback's would be.
 */
export function failLater(sink: JsonSink, err: unknown): void {
  queueMicrotask(() => {
    try {
      sink.failed(err);
    } catch (thrown) {
      void Promise.reject(thrown);
    }
  });
}

export class JsonCall extends CallAbort implements Dispatcher.DispatchHandler {
  private status = 0;
  private first: Buffer | undefined = undefined;
  private more: Buffer[] | undefined = undefined;
  private length = 0;
  private abortUndici: ((err?: Error) => void) | undefined = undefined;
  private sink: JsonSink | undefined = undefined;

  constructor(
    caller: AbortSignal | undefined,
    private readonly owner: JsonCallOwner,
    readonly instance: ExecutionInstance,
    readonly options: CallOptions,
  ) {
    super(caller);
    this.follow();
  }

  /**
   * Sends `payload` as the request's JSON body (`request.body` is set here); `sink` gets the call's result, or the
   * owner's error for why it failed (an abort: its reason).
   */
  send(dispatcher: Dispatcher, request: Dispatcher.DispatchOptions, payload: unknown, sink: JsonSink): void {
    this.sink = sink;
    try {
      request.body = JSON.stringify(payload);
      dispatcher.dispatch(request, this);
    } catch (err) {
      this.failed(err);
    }
  }

  private answer(status: number, text: string): void {
    const sink = this.sink;
    if (!sink) return;
    let result: JsonResult;
    try {
      result = this.owner.result(this, status, text);
    } catch (err) {
      this.failed(err);
      return;
    }
    this.settled();
    try {
      sink.answered(result);
    } catch (thrown) {
      // Not into undici's parser: what a sink throws is reported as a throwing promise callback's would be.
      void Promise.reject(thrown);
    }
  }

  private failed(err: unknown): void {
    const sink = this.sink;
    if (!sink) return;
    let error: unknown;
    try {
      error = this.owner.failure(this, err);
    } catch (thrown) {
      error = thrown;
    }
    this.settled();
    failLater(sink, error);
  }

  private settled(): void {
    this.sink = undefined;
    this.owner.over(this);
  }

  protected aborting(): void {
    // Before undici wrote the request (queued for a connection) it has no abort to call yet: onConnect does it.
    this.abortUndici?.(this.abortError());
  }

  private abortError(): Error {
    return (this.reason ?? new errors.RequestAbortedError()) as Error;
  }

  // ---------------------------------------------------------------- undici's handler

  onConnect(abort: (err?: Error) => void): void {
    if (this.aborted) abort(this.abortError());
    else this.abortUndici = abort;
  }

  onHeaders(statusCode: number): boolean {
    // 1xx informational answers come before the real one.
    if (statusCode >= 200) this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.first === undefined) this.first = chunk;
    else (this.more ??= [this.first]).push(chunk);
    this.length += chunk.length;
    return true;
  }

  onComplete(): void {
    this.abortUndici = undefined;
    this.answer(this.status, this.text());
  }

  onError(err: Error): void {
    this.abortUndici = undefined;
    // An error answer whose body broke off is still that answer, its body unread (what reading it as text gave).
    if (this.status !== 0 && (this.status < 200 || this.status >= 300)) this.answer(this.status, '');
    else this.failed(err);
  }

  private text(): string {
    if (this.first === undefined || this.length === 0) return '';
    const buf = this.more ? Buffer.concat(this.more, this.length) : this.first;
    const bom = buf.length > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
    return buf.toString('utf8', bom ? 3 : 0);
  }
}
