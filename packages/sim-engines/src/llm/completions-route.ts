// POST /v1/completions of sim-llm (legacy completions), non-streamed and SSE.
import { SseStream } from '@sage/common/http';
import { encodeTokens, SageError, type CompletionChunk, type CompletionResponse } from '@sage/common';
import { splitMarkedContext } from '../text/prompt-parts';
import { decodeTokenIds } from '../http/token-ids';
import { SimCompletionRequestSchema } from './schemas';
import { promptBlockHashes } from '../model/prefix-hash';
import { type GenerationPrompt, type GenerationSampling } from './generation';
import { checkEngineRequest, checkN, normaliseStop, tokenBudget } from './request-checks';
import { cancelOnDisconnect } from './runner';
import type { RouteContext } from './route-context';
import { envelope, replyIdentity, streamChunks, tokenUsage, type ChunkExtras } from './envelope';
import { completionAnswers } from './continuation';

export function registerCompletionsRoute(ctx: RouteContext): void {
  const { params } = ctx;
  ctx.app.post('/v1/completions', { schema: { body: SimCompletionRequestSchema } }, async ({ body }, reply) => {
    const kv = checkEngineRequest(ctx, body);
    const raw = body.prompt;
    // One prompt, several text prompts, one token array, or several token arrays.
    const prompts: Array<{ text: string; ids: number[] }> =
      typeof raw === 'string'
        ? [{ text: raw, ids: encodeTokens(raw) }]
        : raw.length > 0 && raw.every((x) => typeof x === 'number')
          ? [{ text: decodeTokenIds(raw as number[], 'prompt'), ids: raw as number[] }]
          : (raw as Array<string | number[]>).map((p) => (typeof p === 'string' ? { text: p, ids: encodeTokens(p) } : { text: decodeTokenIds(p, 'prompt'), ids: p }));
    if (prompts.length === 0) throw new SageError("'prompt' must not be empty", { status: 400, param: 'prompt', code: 'invalid_value' });
    if (prompts.some((p) => p.ids.length === 0)) throw new SageError("'prompt' must not contain an empty prompt", { status: 400, param: 'prompt', code: 'invalid_value' });
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
      const budget = tokenBudget(params.maxModelLen, prompt.promptTokens, body.max_tokens, 16, 'max_tokens');
      const sampling: GenerationSampling = { n, ...budget, seed: body.seed, temperature: body.temperature, stop: normaliseStop(body.stop), ...kv };
      const answers = completionAnswers(prompt, sampling);
      ctx.runner.checkFits(prompt, answers);
      return { prompt, sampling, answers, base: pi * n, echoText: echo ? p.text : '' };
    });
    const identity = replyIdentity('cmpl', ctx.model);
    const promptTokens = jobs.reduce((s, j) => s + j.prompt.promptTokens, 0);
    const usage = (results: ReadonlyArray<{ completionTokens: number }>) => tokenUsage(promptTokens, results.reduce((s, r) => s + r.completionTokens, 0));
    const kvOut = ctx.runner.kvResponse(kv, promptTokens);

    if (body.stream) {
      const includeUsage = body.stream_options?.include_usage === true;
      const sse = new SseStream(reply);
      const chunk: (choices: CompletionChunk['choices'], more?: ChunkExtras) => CompletionChunk = streamChunks(identity, 'text_completion', includeUsage);
      const gens = jobs.map((j) => {
        const echoed = new Set<number>();
        return ctx.runner.run(
          j.prompt,
          j.sampling,
          j.answers,
          (choice, text) => {
            const prefix = j.echoText && !echoed.has(choice) ? j.echoText : '';
            echoed.add(choice);
            if (prefix + text) sse.send(chunk([{ index: j.base + choice, text: prefix + text, logprobs: null, finish_reason: null }]));
          },
          (choice, answer) => sse.send(chunk([{ index: j.base + choice, text: '', logprobs: null, finish_reason: answer.finishReason }], kvOut ? { kv_transfer_params: kvOut } : {})),
        );
      });
      sse.onClientClose(() => gens.forEach((g) => g.cancel()));
      const results = await Promise.all(gens.map((g) => g.done));
      if (includeUsage) sse.send(chunk([], { usage: usage(results) }));
      sse.done();
      return reply;
    }

    const gens = jobs.map((j) => ctx.runner.run(j.prompt, j.sampling, j.answers, () => undefined, () => undefined));
    cancelOnDisconnect(reply, gens);
    const results = await Promise.all(gens.map((g) => g.done));
    const choices = jobs.flatMap((j, ji) =>
      (results[ji]?.answers ?? []).map((a, i) => ({ index: j.base + i, text: j.echoText + a.text, logprobs: null, finish_reason: a.finishReason })),
    );
    const response: CompletionResponse = {
      ...envelope(identity, 'text_completion'),
      choices,
      usage: usage(results),
      kv_transfer_params: kvOut,
    };
    return response;
  });
}
