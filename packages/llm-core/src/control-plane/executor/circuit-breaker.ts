// Per-instance circuit breaker (F-208): after `failureThreshold` consecutive failures the instance is
// skipped for `cooldownMs`; then one probe request is let through (half-open) and its outcome closes
// or re-opens the circuit.

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  /** Injected clock for tests. */
  now?: () => number;
  /** Told when the circuit opens or closes (replicas sharing state pass it on); not told of adopt(). */
  onChange?: (state: 'open' | 'closed', openedAt: number) => void;
}

export class CircuitBreaker {
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly onChange?: (state: 'open' | 'closed', openedAt: number) => void;
  private failures = 0;
  private openedAt = 0;
  private state: CircuitState = 'closed';
  private probeInFlight = false;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.threshold = opts.failureThreshold ?? 3;
    this.cooldownMs = opts.cooldownMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.onChange = opts.onChange;
  }

  get currentState(): CircuitState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.cooldownMs) return 'half_open';
    return this.state;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  get msUntilProbe(): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, this.cooldownMs - (this.now() - this.openedAt));
  }

  /** Whether a request may be sent now (does not reserve the probe: see {@link acquire}). */
  canRequest(): boolean {
    const s = this.currentState;
    if (s === 'closed') return true;
    if (s === 'half_open') return !this.probeInFlight;
    return false;
  }

  /** Called when a request is actually sent; in half-open state this takes the single probe slot. */
  acquire(): boolean {
    const s = this.currentState;
    if (s === 'closed') return true;
    if (s === 'half_open' && !this.probeInFlight) {
      this.state = 'half_open';
      this.probeInFlight = true;
      return true;
    }
    return false;
  }

  onSuccess(): void {
    const wasOpen = this.state !== 'closed';
    this.failures = 0;
    this.state = 'closed';
    this.probeInFlight = false;
    if (wasOpen) this.onChange?.('closed', 0);
  }

  /**
   * The request ended without a verdict on the engine (its caller went away): the probe slot is given
   * back so that the next request can probe, instead of the circuit waiting forever for this one.
   */
  release(): void {
    this.probeInFlight = false;
  }

  onFailure(): void {
    this.failures += 1;
    const probeFailed = this.probeInFlight || this.state === 'half_open';
    this.probeInFlight = false;
    if (probeFailed || this.failures >= this.threshold) {
      this.state = 'open';
      this.openedAt = this.now();
      this.onChange?.('open', this.openedAt);
    }
  }

  /** Takes on a state decided elsewhere (another replica's breaker for the same instance), without onChange. */
  adopt(state: 'open' | 'closed', openedAt: number): void {
    this.failures = state === 'open' ? Math.max(this.failures, this.threshold) : 0;
    this.state = state;
    if (state === 'open') this.openedAt = Math.min(openedAt, this.now());
    else this.probeInFlight = false;
  }
}
