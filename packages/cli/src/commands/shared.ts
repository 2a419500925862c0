// What every command gets (where state lives, where output goes, the raw argv) and shared option parsers.
import { InvalidArgumentError } from 'commander';

import type { SageHome } from '../home';
import type { Out } from '../output';

export interface Context {
  home: SageHome;
  out: Out;
  /** argv after `node sage.js`. */
  argv: readonly string[];
  /** Set by the action that ran. */
  exitCode: number;
}

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function intArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

export function positiveIntArg(value: string): number {
  const n = intArg(value);
  if (n < 1) throw new InvalidArgumentError('expected a number of 1 or more');
  return n;
}

export function portArg(value: string): number {
  const n = intArg(value);
  if (n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}
