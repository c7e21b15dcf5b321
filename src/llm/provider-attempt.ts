import type { CircuitPermit } from './circuit-breaker';
import type { CompletionChunk, CompletionRequest, TokenUsage } from './llm-client';
import type { LlmProvider } from './llm-providers';
import { LinkedAbortController } from './linked-abort-controller';
import type { AttemptOutcome, LlmTelemetry } from './llm-telemetry';

/** A pending `next()` of an attempt's stream that never rejects: the race waits on several at once. */
export type Settled =
  { attempt: ProviderAttempt; result: IteratorResult<CompletionChunk> } | { attempt: ProviderAttempt; error: unknown };

/**
 * One request to one provider within a round: its own AbortController (following the
 * caller's signal), its watchdog (the provider's first-token budget, then its idle budget),
 * and what it said besides text (model, usage, finish, reasoning). Ends exactly once, with
 * its outcome reported to the circuit and the telemetry.
 */
export class ProviderAttempt {
  readonly startedAt = performance.now();
  readonly startedAtIso = new Date().toISOString();
  readonly iterator: AsyncIterator<CompletionChunk>;
  private readonly controller: LinkedAbortController;
  private timer: NodeJS.Timeout;
  /** The watchdog guards the gap between outputs (an output came) rather than the first. */
  private idle = false;
  /** How it ended, once it has. */
  outcome: AttemptOutcome | undefined;
  timedOut = false;
  /** Started by the hedge timer, this many ms into the round. */
  hedgedAfterMs: number | undefined;
  /** First text or tool call (reasoning excluded), performance.now(). */
  firstTokenAt: number | undefined;
  reasoningStartedAt: number | undefined;
  reasoningDeltas = 0;
  finishReason: string | undefined;
  usage: TokenUsage | undefined;
  responseModel: string | undefined;
  pending: Promise<Settled> | undefined;
  endedAt: number | undefined;

  constructor(
    readonly provider: LlmProvider,
    readonly permit: CircuitPermit,
    readonly model: string,
    request: Omit<CompletionRequest, 'signal' | 'model'>,
    caller: AbortSignal,
    private readonly telemetry: LlmTelemetry,
  ) {
    this.controller = new LinkedAbortController(caller);
    this.timer = setTimeout(this.expire, provider.config.firstTokenTimeoutMs);
    let iterator: AsyncIterator<CompletionChunk>;
    try {
      iterator = provider.client
        .streamCompletion({ ...request, model, signal: this.controller.signal })
        [Symbol.asyncIterator]();
    } catch (error) {
      // A client that throws before returning a stream fails like one whose stream throws.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the client's own throw, passed on as it was
      iterator = { next: () => Promise.reject(error) };
    }
    this.iterator = iterator;
  }

  private readonly expire = () => {
    this.timedOut = true;
    this.controller.abort(new Error('LLM watchdog'));
  };

  get producedOutput(): boolean {
    return this.idle;
  }

  get timeoutMs(): number {
    return this.idle ? this.provider.config.idleTimeoutMs : this.provider.config.firstTokenTimeoutMs;
  }

  /** An output (text, tool call, reasoning) arrived: the first switches the watchdog to the idle budget. */
  fed(): void {
    if (this.idle) {
      // Re-arming the same timer allocates nothing: this runs once per token.
      this.timer.refresh();
      return;
    }
    this.idle = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.expire, this.provider.config.idleTimeoutMs);
  }

  /** Keeps what a chunk that is not an output says. */
  note(chunk: CompletionChunk): void {
    if (chunk.type === 'usage') this.usage = chunk.usage;
    else if (chunk.type === 'finish') this.finishReason = chunk.reason;
    else if (chunk.type === 'model') this.responseModel ??= chunk.model;
  }

  /** Asks for the next chunk; the race awaits `pending`, which never rejects. */
  pull(): void {
    this.pending = this.iterator.next().then(
      (result) => ({ attempt: this, result }),
      (error: unknown) => ({ attempt: this, error }),
    );
  }

  get reasoningMs(): number | undefined {
    if (this.reasoningStartedAt === undefined) return undefined;
    return (this.firstTokenAt ?? this.endedAt ?? performance.now()) - this.reasoningStartedAt;
  }

  get durationMs(): number {
    return (this.endedAt ?? performance.now()) - this.startedAt;
  }

  /**
   * Ends the request once: stops the watchdog, lets go of the caller's signal and, unless it
   * answered, aborts it upstream. The circuit hears of `answered`; failures are reported to
   * it by the caller, which knows why; `cancelled` and `lost` tell it nothing.
   */
  end(outcome: AttemptOutcome, cause?: string): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.endedAt = performance.now();
    clearTimeout(this.timer);
    if (outcome !== 'answered') this.controller.abort(new Error(`LLM request ${outcome}`));
    this.controller.dispose();
    // Closes the client's stream (as for-await would), so its connection is released.
    this.iterator.return?.().catch(() => undefined);
    if (outcome === 'answered') this.provider.breaker.succeeded(this.permit);
    else if (outcome === 'cancelled' || outcome === 'lost') this.provider.breaker.released(this.permit);
    this.telemetry.emit({
      type: 'attempt',
      provider: this.provider.name,
      outcome,
      ...(cause ? { cause } : {}),
      ...(this.firstTokenAt !== undefined ? { firstTokenMs: this.firstTokenAt - this.startedAt } : {}),
      ...(this.reasoningStartedAt !== undefined ? { reasoningMs: this.reasoningMs } : {}),
    });
  }
}
