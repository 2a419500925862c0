// Token-id inputs (completions prompts, embedding inputs) decoded with the shared tokenizer. An id the
// vocabulary does not know decodes to nothing; silently dropping it would change the input, so it is a 400.
import { decodeTokens, SageError } from '@sage/common';

export function decodeTokenIds(ids: readonly number[], param: string): string {
  for (const id of new Set(ids)) {
    if (decodeTokens([id]) === '') {
      throw new SageError(`'${param}' holds token id ${id}, which is not in the tokenizer's vocabulary`, { status: 400, param, code: 'invalid_value' });
    }
  }
  return decodeTokens(ids);
}
