import type { CircuitPermit } from './circuit-breaker';
import type { CompletionChunk } from './llm-client';
import { LlmReplyError } from './llm-errors';
import type { FailedAttempt, HedgeOutcome, ReplyChunk } from './llm-reply';
import type { LlmProvider } from './llm-providers';
import type { LlmTelemetry } from './llm-telemetry';
import type { ProviderAttempt, Settled } from './provider-attempt';
import { failAttempt, Failure } from './provider-failure';

/** How a round starts a request to a provider, and which model it sends it. */
export interface Starter {
  modelOf(provider: LlmProvider): string;
  attempt(provider: LlmProvider, permit: CircuitPermit): ProviderAttempt;
}

/** One round's providers: those left to try (consumed), and what failed so far (appended to). */
export interface Round {
  queue: LlmProvider[];
  start: Starter;
  hedgeAfterMs: number | undefined;
  caller: AbortSignal;
  failures: Failure[];
  /** performance.now() when the round began. */
  roundStart: number;
  telemetry: LlmTelemetry;
}

/** The provider that answered, with its first chunk (undefined: it finished without any output). */
export interface Selected {
  attempt: ProviderAttempt;
  first: CompletionChunk | undefined;
}

/**
 * Starts providers from `queue` until one produces its first output (text, tool call or
 * reasoning), and returns it with that chunk; `first` is undefined for a provider that
 * finished without any output. Failed and skipped providers are yielded as they happen.
 * Returns undefined when none is left, or when the caller aborted.
 */
export async function* selectProvider(round: Round): AsyncGenerator<ReplyChunk, Selected | undefined> {
  const { queue, hedgeAfterMs, caller, failures, roundStart, telemetry } = round;
  const active: ProviderAttempt[] = [];
  const started: ProviderAttempt[] = [];
  let hedge: { promise: Promise<'hedge'>; cancel(): void } | undefined;
  const armHedge = () => {
    hedge?.cancel();
    hedge = hedgeAfterMs !== undefined && queue.length > 0 ? delay(hedgeAfterMs) : undefined;
  };
  let winner: ProviderAttempt | undefined;
  try {
    for (;;) {
      if (active.length === 0) {
        const next = launch(round);
        for (const skipped of next.skipped) yield { type: 'attempt_failed', attempt: skipped };
        if (!next.attempt) return undefined;
        active.push(next.attempt);
        started.push(next.attempt);
        next.attempt.pull();
        armHedge();
      }
      const settled: Settled | 'hedge' = await Promise.race<Settled | 'hedge'>([
        ...active.map((a) => a.pending!),
        ...(hedge ? [hedge.promise] : []),
      ]);
      if (caller.aborted) return undefined;
      if (settled === 'hedge') {
        hedge = undefined;
        const next = launch(round);
        for (const skipped of next.skipped) yield { type: 'attempt_failed', attempt: skipped };
        if (next.attempt) {
          next.attempt.hedgedAfterMs = performance.now() - roundStart;
          active.push(next.attempt);
          started.push(next.attempt);
          next.attempt.pull();
        }
        continue;
      }
      const { attempt } = settled;
      if ('error' in settled || (settled.result.done && (attempt.timedOut || attempt.finishReason === undefined))) {
        active.splice(active.indexOf(attempt), 1);
        const failure = failAttempt(attempt, 'error' in settled ? settled.error : undefined);
        failures.push(failure);
        yield { type: 'attempt_failed', attempt: failure.record };
        continue;
      }
      // A stream that finished without any output is an (empty) answer too.
      const chunk = settled.result.done ? undefined : settled.result.value;
      if (
        chunk === undefined ||
        chunk.type === 'text' ||
        chunk.type === 'tool_call_delta' ||
        chunk.type === 'reasoning'
      ) {
        winner = attempt;
        for (const other of active) if (other !== attempt) other.end('lost');
        const hedged = started.find((a) => a.hedgedAfterMs !== undefined);
        if (hedged) {
          const outcome = hedgeOutcome(winner, hedged, started);
          telemetry.emit({ type: 'hedge', provider: hedged.provider.name, hedgeWon: outcome.hedgeWon });
          yield { type: 'hedge', hedge: outcome };
        }
        return { attempt, first: chunk };
      }
      attempt.note(chunk);
      attempt.pull();
    }
  } finally {
    hedge?.cancel();
    // The caller aborted, or the consumer stopped: nothing of this round is wanted any more.
    for (const attempt of active) if (attempt !== winner) attempt.end('cancelled');
  }
}

/** The next provider whose circuit lets a request through; those it skips, as failed attempts. */
function launch({ queue, start, failures, telemetry }: Round): { attempt?: ProviderAttempt; skipped: FailedAttempt[] } {
  const skipped: FailedAttempt[] = [];
  for (let provider = queue.shift(); provider; provider = queue.shift()) {
    const permit = provider.breaker.tryAcquire();
    if (permit) return { attempt: start.attempt(provider, permit), skipped };
    const record: FailedAttempt = {
      provider: provider.name,
      model: start.modelOf(provider),
      code: 'circuit_open',
      error: `skipped: circuit open for ${Math.ceil(provider.breaker.retryInMs / 1000)} s more`,
      startedAt: new Date().toISOString(),
      durationMs: 0,
    };
    telemetry.emit({ type: 'attempt', provider: provider.name, outcome: 'skipped' });
    failures.push({ record, error: new LlmReplyError('unavailable', record.error) });
    skipped.push(record);
  }
  return { skipped };
}

function hedgeOutcome(winner: ProviderAttempt, hedged: ProviderAttempt, started: ProviderAttempt[]): HedgeOutcome {
  return {
    startedAfterMs: Math.round(hedged.hedgedAfterMs!),
    winner: winner.provider.name,
    hedgeWon: winner === hedged,
    extra: started
      .filter((a) => a !== winner)
      .map((a) => ({
        provider: a.provider.name,
        model: a.model,
        // Those the winner beat were cut short; the others had failed on their own.
        outcome: a.outcome === 'lost' ? ('aborted' as const) : ('failed' as const),
        durationMs: Math.round(a.durationMs),
      })),
  };
}

function delay(ms: number): { promise: Promise<'hedge'>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<'hedge'>((resolve) => (timer = setTimeout(() => resolve('hedge'), ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}
