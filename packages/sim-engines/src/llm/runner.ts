// Runs prompts on the engine loop for the routes: KV-capacity check, the kv_transfer_params a prefill
// hands to its decode engine, and the vLLM metrics of each request.
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { SageError } from '@sage/common';
import type { EngineLoop } from '../model/engine-loop';
import type { EngineModelParams } from '../model/params';
import type { Answer } from '../text/answer';
import type { SimLlmMetrics } from './metrics';
import { Generation, type GenerationPrompt, type GenerationSampling } from './generation';

export interface RunnerOptions {
  model: string;
  engine: EngineLoop;
  metrics: SimLlmMetrics;
  params: EngineModelParams;
  engineId?: string;
  /** Host and port advertised in kv_transfer_params. */
  advertise?: () => { host: string; port: number };
}

export class SimLlmRunner {
  readonly engineId: string;
  private nextBlockId = 0;

  constructor(private readonly o: RunnerOptions) {
    this.engineId = o.engineId ?? `sage-sim-${randomUUID()}`;
  }

  /** 400 when a sequence could never fit in the KV cache (it would wait forever). */
  checkFits(prompt: GenerationPrompt, answers: Answer[]): void {
    const p = this.o.params;
    for (const a of answers) {
      if (!this.o.engine.scheduler.fits(prompt.promptTokens, a.completionTokens)) {
        throw new SageError(`the request needs more KV-cache blocks than the engine has (${p.kvCacheBlocks} blocks of ${p.blockSize} tokens)`, { status: 400, code: 'context_length_exceeded' });
      }
    }
  }

  /** What a prefill-only request returns for its decode engine (vLLM NixlConnector's fields); null otherwise. */
  kvResponse(sampling: Pick<GenerationSampling, 'prefillOnly'>, promptTokens: number): Record<string, unknown> | null {
    if (!sampling.prefillOnly) return null;
    const p = this.o.params;
    const ids = Array.from({ length: Math.ceil(promptTokens / p.blockSize) }, () => this.nextBlockId++ % p.kvCacheBlocks);
    const where = this.o.advertise?.() ?? { host: '127.0.0.1', port: 0 };
    return { do_remote_prefill: true, do_remote_decode: false, remote_engine_id: this.engineId, remote_block_ids: ids, remote_host: where.host, remote_port: where.port, tp_size: 1 };
  }

  /** Runs one prompt's choices on the engine, recording metrics; `onDelta` gets (choice, text). */
  run(
    prompt: GenerationPrompt,
    sampling: GenerationSampling,
    answers: Answer[],
    onDelta: (choice: number, text: string) => void,
    onChoiceDone: (choice: number, answer: Answer) => void,
  ): Generation {
    const { metrics } = this.o;
    const labels = { model_name: this.o.model };
    const start = performance.now();
    let firstAt = 0;
    if (sampling.prefillOnly) metrics.kvPrefills.inc(labels);
    if (sampling.skipPrefill) metrics.kvDecodes.inc(labels);
    const gen = new Generation(this.o.engine, prompt, sampling, answers, {
      onFirstToken: () => {
        firstAt = performance.now();
        metrics.ttft.observe(labels, (firstAt - start) / 1000);
      },
      onDelta: (choice, text) => {
        metrics.generationTokens.inc(labels);
        onDelta(choice, text);
      },
      onChoiceDone: (choice, answer) => {
        metrics.requestSuccess.inc({ ...labels, finished_reason: answer.finishReason });
        onChoiceDone(choice, answer);
      },
    });
    void gen.done.then((r) => {
      if (r.cancelled) return;
      const end = performance.now();
      metrics.e2e.observe(labels, (end - start) / 1000);
      metrics.promptTokens.inc(labels, prompt.promptTokens);
      const perChoice = r.completionTokens / Math.max(1, answers.length);
      if (perChoice > 1) metrics.tpot.observe(labels, (end - firstAt) / 1000 / (perChoice - 1));
    });
    return gen;
  }
}

/** Cancels generations when the client disconnects before a non-streamed answer was sent. */
export function cancelOnDisconnect(reply: FastifyReply, gens: Generation[]): void {
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) for (const g of gens) g.cancel();
  });
}
