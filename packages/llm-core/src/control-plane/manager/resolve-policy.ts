// Policy by name through the policies' factory. An unknown name is an error listing the valid ones
// (never a silent fallback).
import { createPolicy, type PolicyOptions } from '../policies';
import type { SchedulingPolicy } from '../types';

export function resolvePolicy(p: string | SchedulingPolicy, options?: PolicyOptions): SchedulingPolicy {
  if (typeof p === 'object') return p;
  return createPolicy(p, options);
}
