// Wait-budget refusals of the last moments, as a count that decays by half every second. A storm of callers
// refused in the same instant and told the same Retry-After comes back in the same instant, again and again;
// told where they stand among the refused (the queue takes them back only as fast as it drains), they return
// spread out, and the control plane answers fewer refusals for the same completions.
const HALF_LIFE_MS = 1000;

export class RefusalPacer {
  private count = 0;
  private at = 0;

  /** Counts a refusal at `now` and returns how many came before it recently (decayed). */
  refused(now: number): number {
    if (this.at > 0 && now > this.at) this.count *= Math.pow(0.5, (now - this.at) / HALF_LIFE_MS);
    this.at = Math.max(this.at, now);
    const before = this.count;
    this.count += 1;
    return before;
  }
}
