// The discrete-event core of sim-llm: a continuously batching scheduler in the style of vLLM v1, with no
// notion of wall-clock time. Each call to plan() decides the next engine step (which sequences prefill
// how many prompt tokens, which decode one token) and how long the GPU takes for it; commit() applies
// the step and says which sequences emitted a token or finished. The real-time loop (engine-loop.ts)
// sleeps between the two; the virtual-time simulator (simulate.ts) just advances a number.
import { KvBlockPool, type BlockHolding } from './kv-cache';
import type { EngineModelParams } from './params';

/** What the scheduler needs to know about one sequence (one choice of one request). */
export interface SeqSpec {
  id: string;
  promptTokens: number;
  /** Chained hashes of the prompt's full blocks, in order (see blockHashes in prefix-hash.ts). */
  blockHashes: readonly string[];
  /** Tokens this sequence will generate (>= 1); the answer is known up front, the pacing is the model's. */
  outputTokens: number;
  /** The prompt's KV cache arrived from a remote prefill engine: no prefill work here. */
  skipPrefill?: boolean;
}

export type SeqState = 'waiting' | 'running' | 'finished';

/** A sequence as the scheduler tracks it. */
export interface Seq extends SeqSpec {
  state: SeqState;
  /** Tokens whose KV is in cache. */
  computed: number;
  /** Tokens to prefill before the next sample: the prompt, or prompt + generated after a preemption. */
  target: number;
  generated: number;
  /** Prompt blocks already published to (or taken from) the prefix cache. */
  published: number;
  cachedTokens: number;
  holding: BlockHolding;
}

export interface StepPlan {
  /** GPU time of the step in model milliseconds (0 when there is nothing to do). */
  durationMs: number;
  prefill: Array<{ seq: Seq; tokens: number }>;
  decode: Seq[];
}

export interface TokenEvent {
  id: string;
  /** The first token of the sequence (end of its prefill): TTFT is measured here. */
  first: boolean;
  /** The sequence has produced all its tokens and left the engine. */
  finished: boolean;
}

export interface AdmissionInfo {
  id: string;
  /** Prompt tokens served from the prefix cache. */
  cachedTokens: number;
}

export interface StepResult {
  tokens: TokenEvent[];
  admitted: AdmissionInfo[];
  preempted: string[];
}

export interface SchedulerStats {
  running: number;
  waiting: number;
  kvUsage: number;
  cachedBlocks: number;
  prefixHitTokens: number;
  prefillTokens: number;
  preemptions: number;
}

export class BatchScheduler {
  private readonly pool: KvBlockPool;
  private readonly running: Seq[] = [];
  private readonly waiting: Seq[] = [];
  private readonly byId = new Map<string, Seq>();
  private admittedInPlan: AdmissionInfo[] = [];
  private preemptedInPlan: string[] = [];
  private prefixHitTokens = 0;
  private prefillTokens = 0;
  private preemptions = 0;

  constructor(readonly params: EngineModelParams) {
    this.pool = new KvBlockPool(params.kvCacheBlocks);
  }

  /** Blocks a sequence of `tokens` tokens holds. */
  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.params.blockSize);
  }

  /** Whether a sequence could ever fit in the KV cache (false: reject the request, it would wait forever). */
  fits(promptTokens: number, outputTokens: number): boolean {
    return this.blocksFor(promptTokens + outputTokens) <= this.params.kvCacheBlocks;
  }

  add(spec: SeqSpec): void {
    if (this.byId.has(spec.id)) throw new Error(`sequence ${spec.id} already exists`);
    if (spec.outputTokens < 1) throw new RangeError('a sequence generates at least one token');
    const seq: Seq = {
      ...spec,
      state: 'waiting',
      computed: 0,
      target: spec.promptTokens,
      generated: 0,
      published: 0,
      cachedTokens: 0,
      holding: { hashes: [], privateBlocks: 0 },
    };
    this.byId.set(spec.id, seq);
    this.waiting.push(seq);
  }

  /** Drop a sequence (client went away). Its blocks are released at once; an in-flight step skips it. */
  cancel(id: string): boolean {
    const seq = this.byId.get(id);
    if (!seq || seq.state === 'finished') return false;
    this.finish(seq);
    return true;
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0;
  }

  stats(): SchedulerStats {
    return {
      running: this.running.length,
      waiting: this.waiting.length,
      kvUsage: this.pool.usage(),
      cachedBlocks: this.pool.cachedBlocks(),
      prefixHitTokens: this.prefixHitTokens,
      prefillTokens: this.prefillTokens,
      preemptions: this.preemptions,
    };
  }

  /** Decide the next step. Admission and block allocation happen here, progress in commit(). */
  plan(): StepPlan {
    const p = this.params;
    let budget = p.maxBatchedTokens;
    const prefill: StepPlan['prefill'] = [];
    const decode: Seq[] = [];
    this.admittedInPlan = [];
    this.preemptedInPlan = [];

    // Running sequences first (vLLM v1 order): continue chunked prefills, decode the rest.
    for (const seq of [...this.running]) {
      if (seq.state !== 'running' || budget <= 0) continue;
      if (seq.computed < seq.target) {
        const tokens = Math.min(seq.target - seq.computed, budget);
        prefill.push({ seq, tokens });
        budget -= tokens;
        continue;
      }
      // Decoding writes the KV of the last sampled token: the sequence may need one more block.
      const need = this.blocksFor(seq.promptTokens + seq.generated) - this.pool.held(seq.holding);
      if (need > 0 && !this.allocateOrPreempt(seq, need, prefill, decode)) continue;
      decode.push(seq);
      budget -= 1;
    }

    // Then admit waiting sequences in FIFO order while there is room (no overtaking: head-of-line blocks).
    while (this.waiting.length > 0 && this.running.length < p.maxRunningSeqs && budget > 0) {
      const seq = this.waiting[0] as Seq;
      if (!this.admit(seq)) break;
      this.waiting.shift();
      this.running.push(seq);
      this.admittedInPlan.push({ id: seq.id, cachedTokens: seq.cachedTokens });
      if (seq.computed < seq.target) {
        const tokens = Math.min(seq.target - seq.computed, budget);
        prefill.push({ seq, tokens });
        budget -= tokens;
      } else {
        decode.push(seq); // remote prefill: KV is here, decode right away
        budget -= 1;
      }
    }

    const prefillTokens = prefill.reduce((s, x) => s + x.tokens, 0);
    const work = prefillTokens > 0 || decode.length > 0;
    const durationMs = work ? p.decodeBaseMs + p.decodePerSeqMs * decode.length + (prefillTokens / p.prefillTokensPerSecond) * 1000 : 0;
    return { durationMs, prefill, decode };
  }

  /** Apply a planned step: prefill progress, sampled tokens, finished sequences. */
  commit(plan: StepPlan): StepResult {
    const tokens: TokenEvent[] = [];
    const emit = (seq: Seq) => {
      const first = seq.generated === 0;
      seq.generated++;
      const finished = seq.generated >= seq.outputTokens;
      if (finished) this.finish(seq);
      tokens.push({ id: seq.id, first, finished });
    };
    for (const { seq, tokens: n } of plan.prefill) {
      if (seq.state !== 'running') continue;
      seq.computed += n;
      this.prefillTokens += n;
      this.publishPromptBlocks(seq);
      if (seq.computed >= seq.target) emit(seq); // the step that completes a prefill samples a token
    }
    for (const seq of plan.decode) {
      if (seq.state !== 'running') continue;
      emit(seq);
    }
    return { tokens, admitted: this.admittedInPlan, preempted: this.preemptedInPlan };
  }

  private admit(seq: Seq): boolean {
    const p = this.params;
    if (seq.skipPrefill && seq.generated === 0) {
      if (!this.pool.allocate(this.blocksFor(seq.target), seq.holding)) return false;
      seq.computed = seq.target;
      seq.state = 'running';
      return true;
    }
    // At least the last prompt token is always computed, so a fully cached prompt still samples.
    const maxHits = Math.floor((seq.target - 1) / p.blockSize);
    const hits = p.enablePrefixCaching ? Math.min(this.pool.countHits(seq.blockHashes), maxHits) : 0;
    this.pool.acquire(seq.blockHashes.slice(0, hits), seq.holding);
    if (!this.pool.allocate(this.blocksFor(seq.target) - hits, seq.holding)) {
      this.pool.release(seq.holding);
      return false;
    }
    seq.published = hits;
    seq.computed = hits * p.blockSize;
    seq.cachedTokens = seq.computed;
    this.prefixHitTokens += seq.computed;
    seq.state = 'running';
    return true;
  }

  /** Find `need` blocks for a decoding sequence, preempting the most recently admitted others (recompute). */
  private allocateOrPreempt(seq: Seq, need: number, prefill: StepPlan['prefill'], decode: Seq[]): boolean {
    while (!this.pool.allocate(need, seq.holding)) {
      const victim = [...this.running].reverse().find((s) => s !== seq && s.state === 'running') ?? seq;
      this.preempt(victim);
      const pi = prefill.findIndex((x) => x.seq === victim);
      if (pi >= 0) prefill.splice(pi, 1);
      const di = decode.indexOf(victim);
      if (di >= 0) decode.splice(di, 1);
      if (victim === seq) return false;
    }
    return true;
  }

  private preempt(seq: Seq): void {
    this.pool.release(seq.holding);
    this.running.splice(this.running.indexOf(seq), 1);
    seq.state = 'waiting';
    seq.computed = 0;
    seq.published = 0;
    seq.target = seq.promptTokens + seq.generated;
    seq.skipPrefill = false;
    this.waiting.unshift(seq);
    this.preemptions++;
    this.preemptedInPlan.push(seq.id);
  }

  private publishPromptBlocks(seq: Seq): void {
    if (!this.params.enablePrefixCaching) return;
    const full = Math.min(Math.floor(Math.min(seq.computed, seq.promptTokens) / this.params.blockSize), seq.blockHashes.length);
    for (; seq.published < full; seq.published++) this.pool.publish(seq.blockHashes[seq.published] as string, seq.holding);
  }

  private finish(seq: Seq): void {
    if (seq.state === 'running') this.running.splice(this.running.indexOf(seq), 1);
    else if (seq.state === 'waiting') this.waiting.splice(this.waiting.indexOf(seq), 1);
    seq.state = 'finished';
    this.pool.release(seq.holding);
    this.byId.delete(seq.id);
  }
}
