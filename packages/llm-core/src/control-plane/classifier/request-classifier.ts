// RequestClassifier (F-202): what kind of work a request is, which instances may serve it (best first), and
// what is wrong with it. Pure: no I/O, no state.
import {
  InstanceType,
  RequestType,
  type ExecutionInstance,
  type RequestMetadata,
} from '../types';

/** The fields classification looks at; `type` wins when given. */
export type ClassifiableRequest = Partial<Pick<RequestMetadata, 'type' | 'messages' | 'prompt' | 'promptInput' | 'embeddingTexts' | 'embeddingTokenIds'>>;

export type ValidationCode =
  | 'missing_model'
  | 'unknown_model'
  | 'invalid_request_type'
  | 'missing_messages'
  | 'invalid_message'
  | 'missing_prompt'
  | 'missing_embedding_texts'
  | 'empty_embedding_texts'
  | 'invalid_max_tokens'
  | 'invalid_temperature'
  | 'invalid_top_p'
  | 'invalid_n'
  | 'invalid_priority'
  | 'invalid_deadline';

export interface ValidationIssue {
  code: ValidationCode;
  /** The offending field, named as on the OpenAI wire where there is one (e.g. `max_tokens`). */
  param: string;
  message: string;
}

const REQUEST_TYPES = new Set<string>(Object.values(RequestType));
const PRIORITIES = new Set<number>([0, 1, 2, 3, 4]);

export function isLlmType(type: RequestType): boolean {
  return type === RequestType.LLM_CHAT || type === RequestType.LLM_GENERATE;
}

/**
 * Preference rank of an instance kind for a request type (lower is better); undefined when the kind must
 * never serve that type. Embedding-only instances never take LLM work.
 */
export function instanceRank(type: RequestType, kind: InstanceType): number | undefined {
  if (type === RequestType.EMBEDDING) {
    if (kind === InstanceType.EMBEDDING) return 0;
    if (kind === InstanceType.LLM_EMBEDDING) return 1;
    return 2; // an LLM instance that explicitly lists embedding support
  }
  switch (kind) {
    case InstanceType.GENERAL:
    case InstanceType.HYBRID:
      return 0;
    case InstanceType.PREFILLING:
    case InstanceType.DECODING:
      return 1;
    case InstanceType.LLM_EMBEDDING:
      return 2;
    default:
      return undefined;
  }
}

/** True when the instance lists `model` (an empty list or "*" means it serves whatever it is asked). */
export function servesModel(instance: ExecutionInstance, model: string): boolean {
  return instance.models.length === 0 || instance.models.includes('*') || instance.models.includes(model);
}

/** A module function rather than a closure made at every validation (every request is validated). */
function addIssue(issues: ValidationIssue[], code: ValidationCode, param: string, message: string): void {
  issues.push({ code, param, message });
}

/** Index of the first message without a role, or -1. */
function firstWithoutRole(messages: ReadonlyArray<{ role?: unknown } | null | undefined>): number {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (typeof m?.role !== 'string' || m.role === '') return i;
  }
  return -1;
}

export class RequestClassifier {
  /** Explicit type, else embedding when texts are present, else generate for a bare prompt, else chat. */
  classify(request: ClassifiableRequest): RequestType {
    if (request.type !== undefined && REQUEST_TYPES.has(request.type)) return request.type;
    if (request.embeddingTexts !== undefined || request.embeddingTokenIds !== undefined) return RequestType.EMBEDDING;
    if ((request.prompt !== undefined || request.promptInput !== undefined) && (request.messages === undefined || request.messages.length === 0)) return RequestType.LLM_GENERATE;
    return RequestType.LLM_CHAT;
  }

  /**
   * Instances that may serve `type` (and `model`, when given), best kind first; the input order is kept
   * within a kind. An instance must list the type in supportedRequestTypes and be of a kind allowed for it.
   */
  compatibleInstances<T extends ExecutionInstance>(type: RequestType, instances: readonly T[], model?: string): T[] {
    const out: T[] = [];
    let kinds = 0; // one bit per rank seen
    for (const inst of instances) {
      const rank = instanceRank(type, inst.type);
      if (rank === undefined) continue;
      if (!inst.supportedRequestTypes.includes(type)) continue;
      if (model !== undefined && !servesModel(inst, model)) continue;
      out.push(inst);
      kinds |= 1 << rank;
    }
    // One kind (the usual case): the input order is the answer. Else a stable sort by rank keeps it within a kind.
    if ((kinds & (kinds - 1)) === 0) return out;
    return out.sort((a, b) => (instanceRank(type, a.type) as number) - (instanceRank(type, b.type) as number));
  }

  /** Compatible instances for a request (its type and model). */
  compatibleFor<T extends ExecutionInstance>(request: Pick<RequestMetadata, 'type' | 'model'>, instances: readonly T[]): T[] {
    return this.compatibleInstances(request.type, instances, request.model);
  }

  /** Every problem with `request`, each with a stable code; empty when it is valid. */
  validate(request: Partial<RequestMetadata>, knownModels?: readonly string[]): ValidationIssue[] {
    const issues: ValidationIssue[] = [];

    if (request.type !== undefined && !REQUEST_TYPES.has(request.type)) {
      addIssue(issues, 'invalid_request_type', 'type', `unknown request type "${String(request.type)}"; expected one of ${[...REQUEST_TYPES].join(', ')}`);
    }
    const type = this.classify(request);

    if (typeof request.model !== 'string' || request.model.trim() === '') {
      addIssue(issues, 'missing_model', 'model', 'model is required');
    } else if (knownModels && knownModels.length > 0 && !knownModels.includes(request.model)) {
      addIssue(issues, 'unknown_model', 'model', `model "${request.model}" is not served here; available: ${knownModels.join(', ')}`);
    }

    if (type === RequestType.EMBEDDING && request.embeddingTokenIds !== undefined) {
      const ids = request.embeddingTokenIds;
      if (!Array.isArray(ids) || ids.length === 0) addIssue(issues, 'empty_embedding_texts', 'input', 'input must contain at least one token array');
      else {
        const bad = ids.findIndex((t) => !Array.isArray(t) || t.length === 0);
        if (bad >= 0) addIssue(issues, 'empty_embedding_texts', `input[${bad}]`, `input[${bad}] is an empty token array`);
      }
    } else if (type === RequestType.EMBEDDING) {
      if (request.embeddingTexts === undefined) addIssue(issues, 'missing_embedding_texts', 'input', 'embedding requests need input texts');
      else if (!Array.isArray(request.embeddingTexts) || request.embeddingTexts.length === 0) addIssue(issues, 'empty_embedding_texts', 'input', 'input must contain at least one text');
      else {
        const bad = request.embeddingTexts.findIndex((t) => typeof t !== 'string' || t.length === 0);
        if (bad >= 0) addIssue(issues, 'empty_embedding_texts', `input[${bad}]`, `input[${bad}] is empty; every text must be a non-empty string`);
      }
    } else if (type === RequestType.LLM_CHAT) {
      if (!Array.isArray(request.messages) || request.messages.length === 0) addIssue(issues, 'missing_messages', 'messages', 'chat requests need at least one message');
      else {
        const bad = firstWithoutRole(request.messages);
        if (bad >= 0) addIssue(issues, 'invalid_message', `messages[${bad}].role`, `messages[${bad}] has no role`);
      }
    } else if (typeof request.prompt !== 'string' && request.promptInput === undefined) {
      addIssue(issues, 'missing_prompt', 'prompt', 'generate requests need a prompt');
    } else if (Array.isArray(request.promptInput)) {
      const list = request.promptInput as ReadonlyArray<unknown>;
      const bad = list.findIndex((p) => Array.isArray(p) && p.length === 0);
      if (list.length === 0) addIssue(issues, 'missing_prompt', 'prompt', 'prompt must not be an empty list');
      else if (bad >= 0) addIssue(issues, 'missing_prompt', `prompt[${bad}]`, `prompt[${bad}] is an empty token array`);
    }

    if (request.maxTokens !== undefined && !(Number.isInteger(request.maxTokens) && request.maxTokens >= 1)) {
      addIssue(issues, 'invalid_max_tokens', 'max_tokens', `max_tokens must be a positive integer, got ${String(request.maxTokens)}`);
    }
    const s = request.sampling;
    if (s?.temperature !== undefined && !(Number.isFinite(s.temperature) && s.temperature >= 0 && s.temperature <= 2)) {
      addIssue(issues, 'invalid_temperature', 'temperature', `temperature must be between 0 and 2, got ${String(s.temperature)}`);
    }
    if (s?.topP !== undefined && !(Number.isFinite(s.topP) && s.topP > 0 && s.topP <= 1)) {
      addIssue(issues, 'invalid_top_p', 'top_p', `top_p must be in (0, 1], got ${String(s.topP)}`);
    }
    if (s?.n !== undefined && !(Number.isInteger(s.n) && s.n >= 1)) addIssue(issues, 'invalid_n', 'n', `n must be a positive integer, got ${String(s.n)}`);

    if (request.priority !== undefined && !PRIORITIES.has(request.priority)) {
      addIssue(issues, 'invalid_priority', 'priority', `priority must be 0 (CRITICAL) … 4 (BACKGROUND), got ${String(request.priority)}`);
    }
    for (const field of ['sloDeadlineMs', 'ttftDeadlineMs'] as const) {
      const v = request[field];
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) addIssue(issues, 'invalid_deadline', field, `${field} must be a positive number of milliseconds, got ${String(v)}`);
    }
    return issues;
  }
}

/** Shared stateless instance for callers that do not need their own. */
export const requestClassifier = new RequestClassifier();
