// Public API of @sage/common (L1). Everything a consumer may use is exported here, and only here.
export { encodeTokens, decodeTokens, countTokens, countChatTokens, contentText } from './tokens/tokenizer';
export * from './types/openai';
export * from './types/errors';
