export { shouldSeparate, buildPrefillPayload, buildDecodePayload, extractKvTransferParams, DEFAULT_PD_OPTIONS } from './pd';
export type { PdOptions } from './pd';
