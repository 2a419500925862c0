// PDFs: the text of every page (PDF.js, through unpdf), with page numbers kept so answers can cite them,
// parsed on a worker thread (pdf-worker-source.ts) one file at a time. A password-protected or damaged
// file is refused with its reason; one that takes too long or too much memory stops the thread, which is
// started afresh for the next file. The thread is unreferenced, stops itself when idle, and stops on close().
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { LoadError, toLoadError, type DocumentLoader, type LoadedDocument } from './document';
import { pdfPagesToMarkdown, type PdfTextRun } from './pdf-layout';
import { PDF_WORKER_SOURCE } from './pdf-worker-source';

export interface PdfLoaderOptions {
  /** Longest a file may take to parse (default 60 s). */
  timeoutMs?: number;
  /** Heap of the parsing thread in MiB (default 1024): a file that needs more is refused. */
  maxMemoryMb?: number;
  /** The thread stops after this long without work (default 30 s); the next file starts it again. */
  idleMs?: number;
}

interface Reply {
  id: number;
  pages?: PdfTextRun[][];
  title?: string | null;
  error?: { name: string; message: string };
}

const PDF_MAGIC = Buffer.from('%PDF-');

function parserError(error: { name: string; message: string }): LoadError {
  if (error.name === 'PasswordException') return new LoadError('encrypted_document', 'the PDF is password-protected');
  return new LoadError('corrupt_document', `not a readable PDF: ${error.message}`);
}

export class PdfLoader implements DocumentLoader {
  readonly extensions = ['.pdf'] as const;
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly maxMemoryMb: number;
  private readonly idleMs: number;

  constructor(options: PdfLoaderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxMemoryMb = options.maxMemoryMb ?? 1024;
    this.idleMs = options.idleMs ?? 30_000;
  }

  async load(filePath: string): Promise<LoadedDocument> {
    const bytes = await readFile(filePath).catch((err: unknown) => {
      throw toLoadError(err);
    });
    // The header may follow a little junk (the format allows up to 1 KiB of it).
    if (bytes.subarray(0, 1024).indexOf(PDF_MAGIC) < 0) throw new LoadError('corrupt_document', 'not a PDF file (no %PDF- header)');
    const reply = await this.serial(() => this.extract(bytes));
    if (reply.error) throw parserError(reply.error);
    const pages = pdfPagesToMarkdown(reply.pages ?? []);
    const title = reply.title?.replace(/\s+/g, ' ').trim();
    return { text: pages.join('\n\n'), format: 'markdown', pages, ...(title && { metadata: { title } }) };
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private start(): Worker {
    const worker = new Worker(PDF_WORKER_SOURCE, {
      eval: true,
      workerData: { unpdfPath: require.resolve('unpdf') },
      resourceLimits: { maxOldGenerationSizeMb: this.maxMemoryMb },
      // PDF.js may print warnings; the bin's stdout carries its JSON protocol, so the thread's is dropped.
      stdout: true,
    });
    worker.stdout.resume();
    worker.on('error', () => undefined); // reported to the pending request by its own listener
    worker.unref();
    return worker;
  }

  private discard(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate();
  }

  private extract(bytes: Buffer): Promise<Reply> {
    clearTimeout(this.idleTimer);
    this.worker ??= this.start();
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.unref();
        if (this.worker === worker) {
          this.idleTimer = setTimeout(() => void this.close(), this.idleMs);
          this.idleTimer.unref();
        }
      };
      const fail = (err: LoadError) => {
        this.discard(worker); // first, so that no idle timer is armed for a thread that is gone
        done();
        reject(err);
      };
      const onMessage = (m: Reply) => {
        if (m.id !== id) return;
        done();
        resolve(m);
      };
      const onError = (err: Error & { code?: string }) =>
        fail(
          new LoadError(
            'parse_failed',
            err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `parsing the PDF needs more than ${this.maxMemoryMb} MiB of memory` : `the PDF parser failed: ${err.message}`,
          ),
        );
      const onExit = (code: number) => fail(new LoadError('parse_failed', `the PDF parser stopped unexpectedly (exit code ${code})`));
      const timer = setTimeout(() => fail(new LoadError('parse_failed', `parsing the PDF took longer than ${this.timeoutMs} ms`)), this.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.ref(); // a file is being parsed: the process waits for it
      const data = new Uint8Array(bytes.byteLength);
      data.set(bytes); // a copy of its own, moved to the thread rather than copied again
      worker.postMessage({ id, data: data.buffer }, [data.buffer]);
    });
  }
}
