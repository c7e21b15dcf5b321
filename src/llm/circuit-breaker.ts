export type CircuitState = 'closed' | 'open' | 'half_open';

/** Leave to send one request, returned by `tryAcquire`; its outcome is reported with it. */
export interface CircuitPermit {
  /** The one request let through to test a provider whose pause is over. */
  readonly trial: boolean;
}

const CLOSED_PERMIT: CircuitPermit = { trial: false };

/**
 * One provider's circuit: after `failureThreshold` consecutive failures it opens and the
 * provider is skipped (at no cost to the turn) for `openMs`; then it is half-open and lets
 * one request through: success closes it, failure opens it again for another pause. A 429
 * with `retry-after` opens it until then, whatever the count. A threshold of 0 turns it off.
 *
 * Time is read when asked (no timers), so the state is exact at every turn and in /metrics.
 */
export class CircuitBreaker {
  private failures = 0;
  /** 0 = closed; otherwise when the pause ends (open before, half-open after). */
  private openUntil = 0;
  private trialInFlight = false;
  private reported: CircuitState = 'closed';

  constructor(
    private readonly failureThreshold: number,
    private readonly openMs: number,
    private readonly onChange?: (state: CircuitState, detail: string) => void,
    // Read late, so fake clocks (tests) apply.
    private readonly now: () => number = () => Date.now(),
  ) {}

  get state(): CircuitState {
    if (this.openUntil === 0) return 'closed';
    return this.openUntil > this.now() ? 'open' : 'half_open';
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Ms until the pause ends (0 unless open). */
  get retryInMs(): number {
    return Math.max(0, this.openUntil - this.now());
  }

  /** A permit to send a request, or undefined while open (or half-open with its trial out). */
  tryAcquire(): CircuitPermit | undefined {
    const state = this.state;
    this.report(state, 'pause over');
    if (state === 'closed') return CLOSED_PERMIT;
    if (state === 'open' || this.trialInFlight) return undefined;
    this.trialInFlight = true;
    return { trial: true };
  }

  succeeded(permit: CircuitPermit): void {
    this.failures = 0;
    if (permit.trial) this.trialInFlight = false;
    // A request sent before the circuit opened proves nothing about now: only the trial closes it.
    if (permit.trial || this.openUntil === 0) {
      this.openUntil = 0;
      this.report('closed', 'a request succeeded');
    }
  }

  failed(permit: CircuitPermit, reason: string): void {
    if (this.failureThreshold === 0) return;
    if (permit.trial) {
      this.trialInFlight = false;
      this.open(this.now() + this.openMs, `the trial request failed: ${reason}`);
      return;
    }
    if (this.openUntil !== 0) return;
    this.failures++;
    if (this.failures >= this.failureThreshold)
      this.open(this.now() + this.openMs, `${this.failures} consecutive failures, the last: ${reason}`);
  }

  /** The request ended without telling anything (the caller hung up, it lost a hedge race). */
  released(permit: CircuitPermit): void {
    if (permit.trial) this.trialInFlight = false;
  }

  /** The provider asked us to wait (429 with retry-after): skip it until then. */
  coolDown(ms: number, reason: string): void {
    if (this.failureThreshold === 0 || ms <= 0) return;
    this.open(Math.max(this.openUntil, this.now() + ms), reason);
  }

  private open(until: number, detail: string): void {
    this.openUntil = until;
    this.report('open', detail);
  }

  private report(state: CircuitState, detail: string): void {
    if (state === this.reported) return;
    this.reported = state;
    this.onChange?.(state, detail);
  }
}
