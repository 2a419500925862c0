// GET /v1/models of a simulator: OpenAI's model list holding the one model it serves, with the fields every
// sim shares written once and the engine's own details (kind, limits, role, ...) after them.
export interface ModelListing {
  object: 'list';
  data: Array<{ id: string; object: 'model'; created: number; owned_by: 'sage-sim' } & Record<string, unknown>>;
}

export function modelListing(model: string, created: number, details: Record<string, unknown>): ModelListing {
  return { object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'sage-sim', ...details }] };
}
