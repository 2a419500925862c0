// The GPU side of sim-embedding: one batch at a time, each costing a fixed overhead plus per-token work,
// as a transformer forward pass does. Requests that queue up while a batch runs are merged into the next
// batch (dynamic batching, as TEI does), up to the maximum batch size.

export interface BatchCostParams {
  /** Fixed cost of one forward pass (kernel launches, transfers), model ms. */
  batchOverheadMs: number;
  /** Work per input token, model ms. */
  perTokenMs: number;
  /** Most inputs in one batch. */
  maxBatchSize: number;
  /** Wall-clock seconds per model second. */
  timeScale: number;
}

export const DEFAULT_BATCH_COST_PARAMS: Readonly<BatchCostParams> = Object.freeze({
  batchOverheadMs: 8,
  perTokenMs: 0.05,
  maxBatchSize: 32,
  timeScale: 1,
});

/** Model time of one batch whose inputs total `tokens` tokens. */
export function batchCostMs(tokens: number, p: Pick<BatchCostParams, 'batchOverheadMs' | 'perTokenMs'>): number {
  return p.batchOverheadMs + p.perTokenMs * tokens;
}

interface Job {
  inputs: number;
  tokens: number;
  resolve: () => void;
}

export class BatchQueue {
  private readonly queue: Job[] = [];
  private busy = false;
  batches = 0;

  constructor(private readonly params: BatchCostParams) {}

  /** Resolves when the batch holding these inputs has been computed. */
  run(inputs: number, tokens: number): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push({ inputs, tokens, resolve });
      this.next();
    });
  }

  queued(): number {
    return this.queue.length;
  }

  private next(): void {
    if (this.busy || this.queue.length === 0) return;
    const batch: Job[] = [this.queue.shift() as Job];
    let inputs = (batch[0] as Job).inputs;
    while (this.queue.length > 0 && inputs + (this.queue[0] as Job).inputs <= this.params.maxBatchSize) {
      const j = this.queue.shift() as Job;
      inputs += j.inputs;
      batch.push(j);
    }
    const tokens = batch.reduce((s, j) => s + j.tokens, 0);
    this.busy = true;
    this.batches++;
    setTimeout(() => {
      this.busy = false;
      for (const j of batch) j.resolve();
      this.next();
    }, batchCostMs(tokens, this.params) * this.params.timeScale);
  }
}
