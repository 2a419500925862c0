// The id an engine receives as x-request-id: the caller's own when it sent one (so the caller's, the control
// plane's and the engine's logs join on it), else the control plane's.
import type { RequestMetadata } from '../types';

export function upstreamRequestId(meta: Pick<RequestMetadata, 'id' | 'clientRequestId'>): string {
  return meta.clientRequestId ?? meta.id;
}
