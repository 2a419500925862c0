// Attributes of one engine or external backend wherever it is declared (preset, --llm-backend, the register
// endpoint, POST /engines, UnifiedInferenceClient.create({ instances })): price, place in the cluster, and the
// API key the control plane presents to it. One zod shape, spread into each surface's own schema.
import { z } from 'zod';
import { InstanceType, type Topology } from '../control-plane/types';

export const INSTANCE_TYPE_NAMES = Object.values(InstanceType) as [InstanceType, ...InstanceType[]];

/** Names people use for instance types (the seeds say PREFILL, DECODE, llm, embedding). */
const INSTANCE_TYPE_ALIASES: Readonly<Record<string, InstanceType>> = {
  PREFILL: 'PREFILLING',
  DECODE: 'DECODING',
  LLM: 'GENERAL',
  CHAT: 'GENERAL',
};

/** An instance type, case-insensitive, accepting the common short names. */
export const instanceTypeSchema = z.preprocess(
  (v) => (typeof v === 'string' ? (INSTANCE_TYPE_ALIASES[v.trim().toUpperCase()] ?? v.trim().toUpperCase()) : v),
  z.enum(INSTANCE_TYPE_NAMES, { error: (iss) => `expected one of ${INSTANCE_TYPE_NAMES.join('|')}, got ${JSON.stringify(iss.input)}` }),
);

const label = z.string({ error: 'expected a string' }).min(1, 'must not be empty').max(128).regex(/^[\w.:/-]+$/, 'letters, digits and . _ : / - only');

/** Price and topology: what cost_optimized and topology_aware decide by. */
export const placementShape = {
  /** What the instance costs per hour, in any currency (cost_optimized prefers the cheaper). */
  costPerHour: z.number({ error: 'expected a number' }).min(0, 'must be 0 or more').max(1_000_000).optional(),
  /** Machine the instance runs on: a prefill/decode pair on one machine moves KV over local links. */
  machine: label.optional(),
  rack: label.optional(),
  /** Instances of one NVLink group move KV over NVLink: the best pairs for prefill/decode separation. */
  nvlinkGroup: label.optional(),
};

export const placementSchema = z.strictObject(placementShape);
export type Placement = z.infer<typeof placementSchema>;

/** Everything about an instance beyond where it listens: used when it is registered with the scheduler. */
export interface InstanceAttributes extends Placement {
  apiKey?: string;
}

/** The scheduler's Topology for a placement (undefined when none of its fields is set). */
export function topologyOf(p: Placement): Topology | undefined {
  if (p.machine === undefined && p.rack === undefined && p.nvlinkGroup === undefined) return undefined;
  return { machineId: p.machine, rackId: p.rack, nvlinkGroup: p.nvlinkGroup };
}

/** The placement fields of a record (for /health and status: never its API key). */
export function placementOf(i: { costPerHour?: number; topology?: Topology }): Placement {
  const out: Placement = {};
  if (i.costPerHour !== undefined) out.costPerHour = i.costPerHour;
  if (i.topology?.machineId !== undefined) out.machine = i.topology.machineId;
  if (i.topology?.rackId !== undefined) out.rack = i.topology.rackId;
  if (i.topology?.nvlinkGroup !== undefined) out.nvlinkGroup = i.topology.nvlinkGroup;
  return out;
}
