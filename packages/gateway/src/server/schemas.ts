// Request bodies of the gateway's HTTP API, validated with zod at the edge.
import { z } from 'zod';
import { ChatCompletionRequestSchema } from '@sage/common';

/** How to retrieve: which retrievers, and their weights in the fusion. */
const RetrievalFields = {
  mode: z.enum(['hybrid', 'vector', 'fulltext']).optional(),
  vector_weight: z.number().min(0).max(100).optional(),
  fulltext_weight: z.number().min(0).max(100).optional(),
  rrf_k: z.number().min(0).max(1000).optional(),
};

const bothWeightsZero = (b: { vector_weight?: number; fulltext_weight?: number }) => !(b.vector_weight === 0 && b.fulltext_weight === 0);
const weightsMessage = { message: 'vector_weight and fulltext_weight cannot both be 0', path: ['vector_weight'] };

const RagOptionsSchema = z
  .object({
    top_k: z.number().int().min(1).max(50).optional(),
    min_score: z.number().min(-1).max(1).optional(),
    ...RetrievalFields,
  })
  .refine(bothWeightsZero, weightsMessage);

/** OpenAI's chat request, with `model` optional and the gateway's extensions. */
export const RagChatRequestSchema = ChatCompletionRequestSchema.extend({
  model: z.string().optional(),
  session_id: z.string().optional(),
  rag: RagOptionsSchema.optional(),
  n: z.literal(1, 'the gateway returns one choice; n must be 1').nullable().optional(),
});
export type RagChatRequest = z.infer<typeof RagChatRequestSchema>;

export const IngestRequestSchema = z
  .object({
    paths: z.array(z.string().min(1, 'a path must be a non-empty string')).min(1, 'paths must name at least one file or folder').optional(),
    documents: z
      .array(
        z.object({
          id: z.string().min(1, 'id must be a non-empty string').max(256),
          text: z.string(),
          source: z.string().min(1).optional(),
          format: z.enum(['markdown', 'text']).optional(),
        }),
      )
      .min(1, 'documents must contain at least one document')
      .optional(),
  })
  .refine((b) => (b.paths === undefined) !== (b.documents === undefined), { message: 'give either "paths" or "documents" (exactly one)' });

/** The `:id` of a document or session route. */
export const IdParams = z.object({ id: z.string().min(1) });

export const QueryRequestSchema = z
  .object({
    query: z.string().min(1, 'query must be a non-empty string'),
    top_k: z.number().int().min(1).max(50).optional(),
    min_score: z.number().min(-1).max(1).optional(),
    ...RetrievalFields,
  })
  .refine(bothWeightsZero, weightsMessage);
