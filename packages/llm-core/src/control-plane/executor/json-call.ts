// One JSON call to an engine, read whole: the handler undici dispatches to, the call's abort (the caller's signal, its
// timeout, a cut by the executor) and the answer's bytes. It goes through undici's dispatch API rather than
// `request()`, which per answer makes an async resource, a parsed header object and a Readable stream only for the
// body to be read to its end at once. The handler is undici's classic one (onConnect … onComplete): the one its own
// `request()` uses, which undici calls without wrapping it.
import type { Dispatcher } from 'undici';
import { errors } from 'undici';
import { CallAbort } from './upstream-call';

/** The answer as it came: status and body text (a UTF-8 BOM dropped, as undici's `text()` does). */
export interface JsonReply {
  status: number;
  text: string;
}

export class JsonCall extends CallAbort implements Dispatcher.DispatchHandler {
  private status = 0;
  private first: Buffer | undefined = undefined;
  private more: Buffer[] | undefined = undefined;
  private length = 0;
  private abortUndici: ((err?: Error) => void) | undefined = undefined;
  private resolve: ((reply: JsonReply) => void) | undefined = undefined;
  private reject: ((err: unknown) => void) | undefined = undefined;

  constructor(caller: AbortSignal | undefined) {
    super(caller);
    this.follow();
  }

  /** Sends the request; settles with the whole answer, or with why it failed (an abort: its reason). */
  send(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<JsonReply> {
    return new Promise<JsonReply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      dispatcher.dispatch(options, this);
    });
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
    this.resolve?.({ status: this.status, text: this.text() });
  }

  onError(err: Error): void {
    this.abortUndici = undefined;
    // An error answer whose body broke off is still that answer, its body unread (what reading it as text gave).
    if (this.status !== 0 && (this.status < 200 || this.status >= 300)) this.resolve?.({ status: this.status, text: '' });
    else this.reject?.(err);
  }

  private text(): string {
    if (this.first === undefined || this.length === 0) return '';
    const buf = this.more ? Buffer.concat(this.more, this.length) : this.first;
    const bom = buf.length > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
    return buf.toString('utf8', bom ? 3 : 0);
  }
}
