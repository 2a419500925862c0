// Chained hashes of a prompt's full KV blocks, as vLLM's prefix caching keys them: block i's hash covers
// the tokens of blocks 0..i, so two prompts share cached block i only if they agree on everything before it.
import { createHash } from 'node:crypto';

export function promptBlockHashes(tokenIds: readonly number[], blockSize: number, salt = ''): string[] {
  const out: string[] = [];
  let prev = salt;
  const full = Math.floor(tokenIds.length / blockSize);
  for (let b = 0; b < full; b++) {
    const block = Int32Array.from(tokenIds.slice(b * blockSize, (b + 1) * blockSize));
    prev = createHash('sha1').update(prev).update(Buffer.from(block.buffer)).digest('base64');
    out.push(prev);
  }
  return out;
}
