// POST /v1/chat/completions of sim-llm, non-streamed and SSE.
import { SseStream } from '@sage/common/http';
import { contentText, countChatTokens, encodeTokens, type ChatCompletionChunk, type ChatCompletionResponse } from '@sage/common';
import { chatPromptParts } from '../text/prompt-parts';
import { SimChatRequestSchema } from './schemas';
import { promptBlockHashes } from '../model/prefix-hash';
import { planAnswers, type GenerationPrompt, type GenerationSampling } from './generation';
import { checkEngineRequest, checkN, normaliseStop, tokenBudget } from './request-checks';
import { cancelOnDisconnect } from './runner';
import type { RouteContext } from './route-context';
import { envelope, replyIdentity, streamChunks, tokenUsage, type ChunkExtras } from './envelope';
import { chatContinuation, chatContinuationAnswers } from './continuation';

/** The prompt text the simulated model "sees" for a chat; its tokens key the prefix cache. */
function renderChat(messages: ReadonlyArray<{ role: string; content?: unknown }>): string {
  return messages.map((m) => `<|${m.role}|>\n${contentText(m.content)}\n`).join('') + '<|assistant|>\n';
}

export function registerChatRoute(ctx: RouteContext): void {
  const { params } = ctx;
  ctx.app.post('/v1/chat/completions', { schema: { body: SimChatRequestSchema } }, async ({ body }, reply) => {
    const kv = checkEngineRequest(ctx, body);
    const messages = body.messages;
    const promptTokens = countChatTokens(messages);
    // continue_final_message: the template leaves the final assistant message open instead of starting a new one.
    const cont = chatContinuation(body);
    const rendered = cont ? renderChat(cont.base) + cont.prefix : renderChat(messages);
    // Block hashes come from the rendered prompt's tokens, cut to the blocks the usage count covers.
    const hashes = promptBlockHashes(encodeTokens(rendered), params.blockSize).slice(0, Math.floor(promptTokens / params.blockSize));
    const prompt: GenerationPrompt = { promptTokens, blockHashes: hashes, parts: chatPromptParts(messages), promptText: rendered };
    const budgetParam = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
    const budget = tokenBudget(params.maxModelLen, promptTokens, body.max_completion_tokens ?? body.max_tokens, undefined, budgetParam);
    const sampling: GenerationSampling = { n: checkN(body.n), ...budget, seed: body.seed, temperature: body.temperature, stop: normaliseStop(body.stop), ...kv };
    const answers = cont ? chatContinuationAnswers({ ...prompt, parts: chatPromptParts(cont.base), promptText: renderChat(cont.base) }, prompt, cont.prefix, sampling) : planAnswers(prompt, sampling);
    ctx.runner.checkFits(prompt, answers);
    const identity = replyIdentity('chatcmpl', ctx.model);
    const kvOut = ctx.runner.kvResponse(sampling, promptTokens);

    if (body.stream) {
      const includeUsage = body.stream_options?.include_usage === true;
      const sse = new SseStream(reply);
      const chunk: (choices: ChatCompletionChunk['choices'], more?: ChunkExtras) => ChatCompletionChunk = streamChunks(identity, 'chat.completion.chunk', includeUsage);
      // Like vLLM, a choice's role chunk goes out with its first token, so time to first chunk is TTFT.
      const started = new Set<number>();
      const gen = ctx.runner.run(
        prompt,
        sampling,
        answers,
        (choice, text) => {
          if (!started.has(choice)) {
            started.add(choice);
            sse.send(chunk([{ index: choice, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
          }
          if (text) sse.send(chunk([{ index: choice, delta: { content: text }, logprobs: null, finish_reason: null }]));
        },
        (choice, answer) => sse.send(chunk([{ index: choice, delta: {}, logprobs: null, finish_reason: answer.finishReason }], kvOut ? { kv_transfer_params: kvOut } : {})),
      );
      sse.onClientClose(() => gen.cancel());
      const r = await gen.done;
      if (includeUsage) sse.send(chunk([], { usage: tokenUsage(promptTokens, r.completionTokens) }));
      sse.done();
      return reply;
    }

    const gen = ctx.runner.run(prompt, sampling, answers, () => undefined, () => undefined);
    cancelOnDisconnect(reply, [gen]);
    const r = await gen.done;
    const response: ChatCompletionResponse = {
      ...envelope(identity, 'chat.completion'),
      choices: r.answers.map((a, index) => ({ index, message: { role: 'assistant', content: a.text, refusal: null }, logprobs: null, finish_reason: a.finishReason })),
      usage: tokenUsage(promptTokens, r.completionTokens),
      kv_transfer_params: kvOut,
    };
    return response;
  });

}
