// Request schemas of sim-llm: the OpenAI wire schemas of @sage/common plus vLLM's disaggregated-serving
// extension `kv_transfer_params`, which the simulator acts on.
import { z } from 'zod';
import { ChatCompletionRequestSchema, CompletionRequestSchema } from '@sage/common';
import { ChatContinuationFields } from './continuation';

export const KvTransferParamsSchema = z.looseObject({
  do_remote_decode: z.boolean().optional(),
  do_remote_prefill: z.boolean().optional(),
  remote_engine_id: z.string().nullable().optional(),
  remote_block_ids: z.array(z.number().int()).nullable().optional(),
  remote_host: z.string().nullable().optional(),
  remote_port: z.number().int().nullable().optional(),
});
export type KvTransferParams = z.infer<typeof KvTransferParamsSchema>;

const engineExtras = { kv_transfer_params: KvTransferParamsSchema.nullable().optional() };

export const SimChatRequestSchema = ChatCompletionRequestSchema.extend({ ...engineExtras, ...ChatContinuationFields });
export type SimChatRequest = z.infer<typeof SimChatRequestSchema>;

export const SimCompletionRequestSchema = CompletionRequestSchema.extend(engineExtras);
export type SimCompletionRequest = z.infer<typeof SimCompletionRequestSchema>;
