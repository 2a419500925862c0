// Load gauges of a simulator: read from the live engine at scrape time (collect) and labelled by model, the
// way both sim servers expose their load on /metrics.
import { Gauge, type Registry } from 'prom-client';

export type GaugeMaker<S> = (name: string, help: string, read: (sample: S) => number) => Gauge<'model_name'>;

/** A maker of gauges in `registry` whose value is `read(sample())` for `model` at each scrape. */
export function sampledGauges<S>(registry: Registry, model: string, sample: () => S): GaugeMaker<S> {
  const labelNames = ['model_name'] as const;
  return (name, help, read) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.set({ model_name: model }, read(sample()));
      },
    });
}
