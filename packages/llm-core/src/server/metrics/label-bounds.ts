// Label values for /metrics come only from what the operator registered: the models instances serve and the
// instances' ids. Anything else a client can put in a request (an unknown model name) becomes `other`, so no
// client can grow the number of series. Both sets only grow, with registrations, so a label never changes meaning.
import type { InstanceRegistry } from '../../control-plane/manager';

export const OTHER = 'other';

export class LabelBounds {
  private readonly models = new Set<string>();
  /** Instance id -> its first served model. */
  private readonly instances = new Map<string, string>();
  private readonly pairs = new Map<string, [model: string, instance: string]>();
  private readonly pairListeners: Array<(model: string, instance: string) => void> = [];
  /** Changes whenever the sets may have grown: a label found before is still right while it stays the same. */
  version = 0;

  constructor(private readonly registry: Pick<InstanceRegistry, 'all' | 'on'>) {
    this.learn();
    registry.on('change', (reason) => {
      if (reason === 'registered') this.learn();
    });
  }

  /** A served model's name as given; '' stays '' (no model named); any other name is `other`. */
  model(name: string | undefined): string {
    if (!name) return '';
    return this.models.has(name) ? name : OTHER;
  }

  /** The model a request ran as: the name it gave, else the first model of the instance that served it. */
  modelOf(name: string | undefined, instanceId: string | undefined): string {
    if (name) return this.model(name);
    return (instanceId !== undefined && this.instances.get(instanceId)) || OTHER;
  }

  instance(id: string | undefined): string {
    return id !== undefined && this.instances.has(id) ? id : OTHER;
  }

  /** The first served model of a known instance (its `model_name` on per-instance gauges). */
  primaryModel(instanceId: string): string {
    return this.instances.get(instanceId) ?? OTHER;
  }

  /** Calls `fn` for every (model, instance) served so far and each one registered later (e.g. to export zeros). */
  eachPair(fn: (model: string, instance: string) => void): void {
    this.pairListeners.push(fn);
    for (const [m, i] of this.pairs.values()) fn(m, i);
  }

  private learn(): void {
    this.version += 1;
    for (const inst of this.registry.all()) {
      // "*" (serves whatever it is asked) is not a name: requests to such an instance count under their own
      // model only when another instance lists it, else under `other`.
      const named = inst.models.filter((m) => m !== '*');
      this.instances.set(inst.id, named[0] ?? OTHER);
      for (const m of named) {
        this.models.add(m);
        const key = `${m}\u0000${inst.id}`;
        if (this.pairs.has(key)) continue;
        this.pairs.set(key, [m, inst.id]);
        for (const fn of this.pairListeners) fn(m, inst.id);
      }
    }
  }
}
