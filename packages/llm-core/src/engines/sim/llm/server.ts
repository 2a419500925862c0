// sim-llm: an OpenAI-compatible server in front of the simulated continuously batching engine.
// Routes: POST /v1/chat/completions, POST /v1/completions (both with SSE streaming), GET /v1/models,
// GET /health, GET /metrics (vLLM metric names).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { contentText, countChatTokens, encodeTokens } from '@sage/common';
import { EngineLoop } from '../model/engine-loop';
import { resolveEngineModelParams, type EngineModelParams } from '../model/params';
import { promptBlockHashes } from '../model/prefix-hash';
import { chatPromptParts, splitMarkedContext } from '../text/prompt-parts';
import type { Answer } from '../text/answer';
import { createBaseApp } from '../http/app';
import { HttpError } from '../http/errors';
import { SseStream } from '../http/sse';
import { decodeTokenIds } from '../http/token-ids';
import { createSimLlmMetrics, type SimLlmMetrics } from './metrics';
import { Generation, planAnswers, type GenerationPrompt, type GenerationSampling } from './generation';
import { SimChatRequestSchema, SimCompletionRequestSchema, type KvTransferParams } from './schemas';

export type SimLlmRole = 'general' | 'prefilling' | 'decoding';
export const SIM_LLM_ROLES: readonly SimLlmRole[] = ['general', 'prefilling', 'decoding'];

export interface SimLlmServerOptions {
  model: string;
  role?: SimLlmRole;
  engine?: Partial<EngineModelParams>;
  logger?: Logger;
  /** Identity reported to decode engines in kv_transfer_params (default: random). */
  engineId?: string;
  /** Host and port advertised in kv_transfer_params (set once listening). */
  advertise?: () => { host: string; port: number };
}

export interface SimLlmApp {
  app: FastifyInstance;
  engine: EngineLoop;
  metrics: SimLlmMetrics;
  params: EngineModelParams;
}

const MAX_N = 64;

function normaliseStop(stop: string | string[] | null | undefined): string[] {
  if (stop === null || stop === undefined) return [];
  return typeof stop === 'string' ? [stop] : stop;
}

/** The prompt text the simulated model "sees" for a chat; its tokens key the prefix cache. */
function renderChat(messages: ReadonlyArray<{ role: string; content?: unknown }>): string {
  return messages.map((m) => `<|${m.role}|>\n${contentText(m.content)}\n`).join('') + '<|assistant|>\n';
}

export function buildSimLlmApp(opts: SimLlmServerOptions): SimLlmApp {
  const role = opts.role ?? 'general';
  const params = resolveEngineModelParams(opts.engine);
  const engine = new EngineLoop(params);
  const metrics = createSimLlmMetrics(opts.model, () => engine.stats());
  const engineId = opts.engineId ?? `sage-sim-${randomUUID()}`;
  const app = createBaseApp({ logger: opts.logger });
  const created = Math.floor(Date.now() / 1000);
  let nextBlockId = 0;

  const checkModel = (model: string) => {
    if (model !== opts.model) {
      throw new HttpError(404, `The model \`${model}\` does not exist. This engine serves \`${opts.model}\`.`, { type: 'NotFoundError', param: 'model', code: 'model_not_found' });
    }
  };

  const kvMode = (kv: KvTransferParams | null | undefined) => {
    const prefillOnly = kv?.do_remote_decode === true;
    const skipPrefill = kv?.do_remote_prefill === true;
    if (prefillOnly && skipPrefill) throw new HttpError(400, 'kv_transfer_params cannot ask for both do_remote_decode and do_remote_prefill', { param: 'kv_transfer_params' });
    if (prefillOnly && role === 'decoding') throw new HttpError(400, 'this engine plays DECODING and does not serve prefill-only requests (kv_transfer_params.do_remote_decode)', { param: 'kv_transfer_params' });
    if (skipPrefill && role === 'prefilling') throw new HttpError(400, 'this engine plays PREFILLING and cannot decode from a remote prefill (kv_transfer_params.do_remote_prefill)', { param: 'kv_transfer_params' });
    return { prefillOnly, skipPrefill };
  };

  /** max_tokens against the context window, as vLLM checks it. */
  const tokenBudget = (promptTokens: number, requested: number | null | undefined, defaultTokens: number | undefined, param: string) => {
    const room = params.maxModelLen - promptTokens;
    if (requested !== null && requested !== undefined && requested < 1) throw new HttpError(400, `'${param}' must be at least 1`, { param, code: 'invalid_value' });
    const given = requested ?? defaultTokens;
    if (room < 1 || (given !== undefined && given > room)) {
      throw new HttpError(
        400,
        `This model's maximum context length is ${params.maxModelLen} tokens. However, you requested ${promptTokens + (given ?? 1)} tokens (${promptTokens} in the messages, ${given ?? 1} in the completion). Please reduce the length of the messages or completion.`,
        { param, code: 'context_length_exceeded' },
      );
    }
    return { maxTokens: given ?? room, maxTokensGiven: given !== undefined };
  };

  const checkN = (n: number | null | undefined) => {
    const v = n ?? 1;
    if (v > MAX_N) throw new HttpError(400, `'n' may be at most ${MAX_N}`, { param: 'n', code: 'invalid_value' });
    return v;
  };

  const checkFits = (prompt: GenerationPrompt, answers: Answer[]) => {
    for (const a of answers) {
      if (!engine.scheduler.fits(prompt.promptTokens, a.completionTokens)) {
        throw new HttpError(400, `the request needs more KV-cache blocks than the engine has (${params.kvCacheBlocks} blocks of ${params.blockSize} tokens)`, { code: 'context_length_exceeded' });
      }
    }
  };

  const kvResponse = (sampling: GenerationSampling, promptTokens: number) => {
    if (!sampling.prefillOnly) return null;
    const blocks = Math.ceil(promptTokens / params.blockSize);
    const ids = Array.from({ length: blocks }, () => nextBlockId++ % params.kvCacheBlocks);
    const where = opts.advertise?.() ?? { host: '127.0.0.1', port: 0 };
    return { do_remote_prefill: true, do_remote_decode: false, remote_engine_id: engineId, remote_block_ids: ids, remote_host: where.host, remote_port: where.port, tp_size: 1 };
  };

  /** Runs one prompt's choices on the engine, recording metrics; `onDelta` gets (choice, text). */
  const run = (
    prompt: GenerationPrompt,
    sampling: GenerationSampling,
    answers: Answer[],
    onDelta: (choice: number, text: string) => void,
    onChoiceDone: (choice: number, answer: Answer) => void,
  ) => {
    const start = performance.now();
    let firstAt = 0;
    if (sampling.prefillOnly) metrics.kvPrefills.inc({ model_name: opts.model });
    if (sampling.skipPrefill) metrics.kvDecodes.inc({ model_name: opts.model });
    const gen = new Generation(engine, prompt, sampling, answers, {
      onFirstToken: () => {
        firstAt = performance.now();
        metrics.ttft.observe({ model_name: opts.model }, (firstAt - start) / 1000);
      },
      onDelta: (choice, text) => {
        metrics.generationTokens.inc({ model_name: opts.model });
        onDelta(choice, text);
      },
      onChoiceDone: (choice, answer) => {
        metrics.requestSuccess.inc({ model_name: opts.model, finished_reason: answer.finishReason });
        onChoiceDone(choice, answer);
      },
    });
    void gen.done.then((r) => {
      if (r.cancelled) return;
      const end = performance.now();
      metrics.e2e.observe({ model_name: opts.model }, (end - start) / 1000);
      metrics.promptTokens.inc({ model_name: opts.model }, prompt.promptTokens);
      const perChoice = r.completionTokens / Math.max(1, answers.length);
      if (perChoice > 1) metrics.tpot.observe({ model_name: opts.model }, (end - firstAt) / 1000 / (perChoice - 1));
    });
    return gen;
  };

  /** Cancels generations when the client disconnects before a non-streamed answer was sent. */
  const cancelOnDisconnect = (reply: FastifyReply, gens: Generation[]) => {
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) for (const g of gens) g.cancel();
    });
  };

  app.post('/v1/chat/completions', async (request: FastifyRequest, reply: FastifyReply) => {
    const body = SimChatRequestSchema.parse(request.body);
    checkModel(body.model);
    const kv = kvMode(body.kv_transfer_params);
    const messages = body.messages;
    const promptTokens = countChatTokens(messages);
    const hashes = promptBlockHashes(encodeTokens(renderChat(messages)), params.blockSize).slice(0, Math.floor(promptTokens / params.blockSize));
    const prompt: GenerationPrompt = { promptTokens, blockHashes: hashes, parts: chatPromptParts(messages), promptText: renderChat(messages) };
    const budgetParam = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
    const budget = tokenBudget(promptTokens, body.max_completion_tokens ?? body.max_tokens, undefined, budgetParam);
    const sampling: GenerationSampling = { n: checkN(body.n), ...budget, seed: body.seed, temperature: body.temperature, stop: normaliseStop(body.stop), ...kv };
    const answers = planAnswers(prompt, sampling);
    checkFits(prompt, answers);
    const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
    const createdAt = Math.floor(Date.now() / 1000);
    const kvOut = kvResponse(sampling, promptTokens);
    const usage = (completion: number) => ({ prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion });

    if (body.stream) {
      const includeUsage = body.stream_options?.include_usage === true;
      const sse = new SseStream(reply);
      const base = { id, object: 'chat.completion.chunk', created: createdAt, model: opts.model, system_fingerprint: 'sage-sim' };
      const extra = includeUsage ? { usage: null } : {};
      // Like vLLM, a choice's role chunk goes out with its first token, so time to first chunk is TTFT.
      const started = new Set<number>();
      const gen = run(
        prompt,
        sampling,
        answers,
        (choice, text) => {
          if (!started.has(choice)) {
            started.add(choice);
            sse.send({ ...base, choices: [{ index: choice, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], ...extra });
          }
          if (text) sse.send({ ...base, choices: [{ index: choice, delta: { content: text }, logprobs: null, finish_reason: null }], ...extra });
        },
        (choice, answer) => sse.send({ ...base, choices: [{ index: choice, delta: {}, logprobs: null, finish_reason: answer.finishReason }], ...extra, ...(kvOut ? { kv_transfer_params: kvOut } : {}) }),
      );
      sse.onClientClose(() => gen.cancel());
      const r = await gen.done;
      if (includeUsage) sse.send({ ...base, choices: [], usage: usage(r.completionTokens) });
      sse.done();
      return reply;
    }

    const gen = run(prompt, sampling, answers, () => undefined, () => undefined);
    cancelOnDisconnect(reply, [gen]);
    const r = await gen.done;
    return {
      id,
      object: 'chat.completion',
      created: createdAt,
      model: opts.model,
      system_fingerprint: 'sage-sim',
      choices: r.answers.map((a, index) => ({ index, message: { role: 'assistant', content: a.text, refusal: null }, logprobs: null, finish_reason: a.finishReason })),
      usage: usage(r.completionTokens),
      kv_transfer_params: kvOut,
    };
  });

  app.post('/v1/completions', async (request: FastifyRequest, reply: FastifyReply) => {
    const body = SimCompletionRequestSchema.parse(request.body);
    checkModel(body.model);
    const kv = kvMode(body.kv_transfer_params);
    const raw = body.prompt;
    // One prompt, several text prompts, one token array, or several token arrays.
    const prompts: Array<{ text: string; ids: number[] }> =
      typeof raw === 'string'
        ? [{ text: raw, ids: encodeTokens(raw) }]
        : raw.length > 0 && raw.every((x) => typeof x === 'number')
          ? [{ text: decodeTokenIds(raw as number[], 'prompt'), ids: raw as number[] }]
          : (raw as Array<string | number[]>).map((p) => (typeof p === 'string' ? { text: p, ids: encodeTokens(p) } : { text: decodeTokenIds(p, 'prompt'), ids: p }));
    if (prompts.length === 0) throw new HttpError(400, "'prompt' must not be empty", { param: 'prompt', code: 'invalid_value' });
    if (prompts.some((p) => p.ids.length === 0)) throw new HttpError(400, "'prompt' must not contain an empty prompt", { param: 'prompt', code: 'invalid_value' });
    const n = checkN(body.n);
    const echo = body.echo === true;
    const jobs = prompts.map((p, pi) => {
      const prompt: GenerationPrompt = {
        promptTokens: p.ids.length,
        blockHashes: promptBlockHashes(p.ids, params.blockSize),
        parts: splitMarkedContext(p.text),
        promptText: p.text,
      };
      // Legacy completions default to 16 tokens, as OpenAI's and vLLM's do.
      const budget = tokenBudget(prompt.promptTokens, body.max_tokens, 16, 'max_tokens');
      const sampling: GenerationSampling = { n, ...budget, seed: body.seed, temperature: body.temperature, stop: normaliseStop(body.stop), ...kv };
      const answers = planAnswers(prompt, sampling);
      checkFits(prompt, answers);
      return { prompt, sampling, answers, base: pi * n, echoText: echo ? p.text : '' };
    });
    const id = `cmpl-${randomUUID().replace(/-/g, '')}`;
    const createdAt = Math.floor(Date.now() / 1000);
    const promptTokens = jobs.reduce((s, j) => s + j.prompt.promptTokens, 0);
    const usage = (completion: number) => ({ prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion });
    const kvOut = kvResponse(jobs[0]?.sampling ?? ({ prefillOnly: false } as GenerationSampling), promptTokens);

    if (body.stream) {
      const includeUsage = body.stream_options?.include_usage === true;
      const sse = new SseStream(reply);
      const base = { id, object: 'text_completion', created: createdAt, model: opts.model, system_fingerprint: 'sage-sim' };
      const extra = includeUsage ? { usage: null } : {};
      const gens = jobs.map((j) => {
        const echoed = new Set<number>();
        return run(
          j.prompt,
          j.sampling,
          j.answers,
          (choice, text) => {
            const prefix = j.echoText && !echoed.has(choice) ? j.echoText : '';
            echoed.add(choice);
            if (prefix + text) sse.send({ ...base, choices: [{ index: j.base + choice, text: prefix + text, logprobs: null, finish_reason: null }], ...extra });
          },
          (choice, answer) => sse.send({ ...base, choices: [{ index: j.base + choice, text: '', logprobs: null, finish_reason: answer.finishReason }], ...extra, ...(kvOut ? { kv_transfer_params: kvOut } : {}) }),
        );
      });
      sse.onClientClose(() => gens.forEach((g) => g.cancel()));
      const results = await Promise.all(gens.map((g) => g.done));
      if (includeUsage) sse.send({ ...base, choices: [], usage: usage(results.reduce((s, r) => s + r.completionTokens, 0)) });
      sse.done();
      return reply;
    }

    const gens = jobs.map((j) => run(j.prompt, j.sampling, j.answers, () => undefined, () => undefined));
    cancelOnDisconnect(reply, gens);
    const results = await Promise.all(gens.map((g) => g.done));
    const choices = results.flatMap((r, ji) =>
      r.answers.map((a, i) => ({ index: (jobs[ji] as (typeof jobs)[number]).base + i, text: (jobs[ji] as (typeof jobs)[number]).echoText + a.text, logprobs: null, finish_reason: a.finishReason })),
    );
    return {
      id,
      object: 'text_completion',
      created: createdAt,
      model: opts.model,
      system_fingerprint: 'sage-sim',
      choices,
      usage: usage(results.reduce((s, r) => s + r.completionTokens, 0)),
      kv_transfer_params: kvOut,
    };
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: [
      {
        id: opts.model,
        object: 'model',
        created,
        owned_by: 'sage-sim',
        root: opts.model,
        parent: null,
        max_model_len: params.maxModelLen,
        sage_kind: 'llm',
        simulated: true,
        engine: 'sim-llm',
        role,
        description: 'sage built-in simulator: deterministic answers, latency from a continuous-batching GPU model (no model weights)',
      },
    ],
  }));

  app.get('/health', async () => ({ status: 'ok', model: opts.model, engine: 'sim-llm', simulated: true, role, ...engine.stats() }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.addHook('onClose', async () => engine.stop());
  return { app, engine, metrics, params };
}

