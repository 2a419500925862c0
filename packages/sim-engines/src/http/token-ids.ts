// Token-id inputs (completions prompts, embedding inputs) decoded with the shared tokenizer. An id the
// vocabulary does not know decodes to nothing; silently dropping it would change the input, so it is a 400.
import { decodeTokens } from '@sage/common';
import { HttpError } from './errors';

export function decodeTokenIds(ids: readonly number[], param: string): string {
  for (const id of new Set(ids)) {
    if (decodeTokens([id]) === '') {
      throw new HttpError(400, `'${param}' holds token id ${id}, which is not in the tokenizer's vocabulary`, { param, code: 'invalid_value' });
    }
  }
  return decodeTokens(ids);
}
