// One request in flight on the simulated engine: its choices become sequences of the engine loop, and
// each sampled token releases the next piece of the precomputed answer to the caller.
import { randomUUID } from 'node:crypto';
import type { EngineLoop } from '../model/engine-loop';
import { buildAnswer, type Answer } from '../text/answer';
import type { PromptParts } from '../text/prompt-parts';

export interface GenerationPrompt {
  /** Prompt tokens as usage reports them (and as the engine prefills them). */
  promptTokens: number;
  /** Chained hashes of the prompt's full KV blocks, for prefix caching. */
  blockHashes: readonly string[];
  parts: PromptParts;
  promptText: string;
}

export interface GenerationSampling {
  n: number;
  maxTokens: number;
  maxTokensGiven: boolean;
  seed?: number | null;
  temperature?: number | null;
  stop?: readonly string[];
  /** Prefill only (kv_transfer_params.do_remote_decode): one token, the KV stays for a decode engine. */
  prefillOnly: boolean;
  /** Decode only (kv_transfer_params.do_remote_prefill): the prompt's KV came from elsewhere. */
  skipPrefill: boolean;
}

export interface GenerationHandlers {
  /** Next text of one choice (may be ''), in order. */
  onDelta(choice: number, text: string): void;
  onChoiceDone(choice: number, answer: Answer): void;
  /** The first token of any choice. */
  onFirstToken?(): void;
}

export interface GenerationResult {
  answers: Answer[];
  completionTokens: number;
  /** The client went away before the end; nothing more was generated. */
  cancelled: boolean;
}

/** Answers of every choice, before any engine time is spent (also used to size the sequences). */
export function planAnswers(prompt: GenerationPrompt, s: GenerationSampling, choiceBase = 0): Answer[] {
  return Array.from({ length: s.n }, (_, i) => {
    const a = buildAnswer({
      parts: prompt.parts,
      promptText: prompt.promptText,
      seed: s.seed,
      temperature: s.temperature,
      choiceIndex: choiceBase + i,
      maxTokens: s.prefillOnly ? 1 : s.maxTokens,
      maxTokensGiven: s.prefillOnly || s.maxTokensGiven,
      stop: s.stop,
    });
    return a;
  });
}

export class Generation {
  private readonly seqIds: string[] = [];
  private remaining: number;
  private firstSeen = false;
  private settled = false;
  private resolveDone!: (r: GenerationResult) => void;
  private readonly answers: Answer[];
  readonly done: Promise<GenerationResult>;

  constructor(
    private readonly engine: EngineLoop,
    prompt: GenerationPrompt,
    sampling: GenerationSampling,
    answers: Answer[],
    handlers: GenerationHandlers,
  ) {
    this.remaining = answers.length;
    this.answers = answers;
    this.done = new Promise((r) => (this.resolveDone = r));
    const reqId = randomUUID();
    answers.forEach((answer, choice) => {
      const id = `${reqId}-${choice}`;
      this.seqIds.push(id);
      let k = 0;
      engine.submit(
        { id, promptTokens: prompt.promptTokens, blockHashes: prompt.blockHashes, outputTokens: answer.completionTokens, skipPrefill: sampling.skipPrefill },
        {
          onToken: () => {
            if (!this.firstSeen) {
              this.firstSeen = true;
              handlers.onFirstToken?.();
            }
            handlers.onDelta(choice, answer.pieces[k++] ?? '');
          },
          onFinish: () => {
            handlers.onChoiceDone(choice, answer);
            if (--this.remaining === 0 && !this.settled) {
              this.settled = true;
              this.resolveDone({ answers, completionTokens: answers.reduce((s, a) => s + a.completionTokens, 0), cancelled: false });
            }
          },
        },
      );
    });
  }

  /** The client went away: free the engine's slots; `done` resolves with `cancelled: true`. */
  cancel(): void {
    if (this.settled) return;
    this.settled = true;
    for (const id of this.seqIds) this.engine.cancel(id);
    this.resolveDone({ answers: this.answers, completionTokens: 0, cancelled: true });
  }
}
