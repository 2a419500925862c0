// The estimator's accuracy and the admission audit on /metrics (sage_estimator_*, sage_admission_*), read from
// the manager at scrape time: the same figures as the `estimator` and `admission` sections of /v1/metrics.
import { Gauge, type Registry } from 'prom-client';
import type { ControlPlaneManager } from '../control-plane/manager';

export function registerEstimatorMetrics(registry: Registry, manager: ControlPlaneManager): void {
  const registers = [registry];
  const perInstance = (name: string, help: string, read: (a: ReturnType<ControlPlaneManager['estimatorAccuracy']>[string]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['instance'],
      registers,
      collect() {
        this.reset();
        for (const [id, a] of Object.entries(manager.estimatorAccuracy())) {
          const v = read(a);
          if (v !== null) this.set({ instance: id }, v);
        }
      },
    });
  perInstance('sage_estimator_e2e_abs_pct_error_median', 'Median absolute percentage error (0..1) of predicted vs actual end-to-end service time, last 256 requests', (a) => a.e2eMdape);
  perInstance('sage_estimator_ttft_abs_pct_error_median', 'Median absolute percentage error (0..1) of predicted vs actual time to first token, last 256 streamed requests', (a) => a.ttftMdape);
  perInstance('sage_estimator_samples', 'Requests whose prediction was scored', (a) => a.samples);
  new Gauge({
    name: 'sage_admission_predictive_refusals',
    help: 'Requests refused (or, in shadow mode, that would have been) by a prediction: deadline_infeasible or the queue-wait budget',
    labelNames: ['code', 'shadow'],
    registers,
    collect() {
      this.reset();
      const a = manager.admissionAudit();
      for (const [code, t] of Object.entries(a.byCode)) this.set({ code, shadow: String(a.shadow) }, t.refused);
    },
  });
  new Gauge({
    name: 'sage_admission_false_refusals',
    help: 'Shadow mode: requests admission would have refused that then made it (deadline met, or waited within budget)',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset();
      for (const [code, t] of Object.entries(manager.admissionAudit().byCode)) this.set({ code }, t.falseRefusals);
    },
  });
}
