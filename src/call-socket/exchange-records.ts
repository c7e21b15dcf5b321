import type { ExchangeRecord, FailedAttemptRecord, HedgeRecord } from '../audit/audit-records';
import type { FailedAttempt, HedgeOutcome, RoundSummary } from '../llm/llm-reply';

/** A provider that did not answer round `round`, as the exchange stores it. */
export function failedAttemptRecord(round: number, attempt: FailedAttempt): FailedAttemptRecord {
  return { round, ...attempt };
}

/** A hedged round, its extra cost unknown until the round's usage arrives. */
export function hedgeRecord(round: number, hedge: HedgeOutcome): HedgeRecord {
  return { round, ...hedge, extraPromptTokens: null };
}

/**
 * A hedged round's extra requests were billed for about the same prompt as the one that
 * answered: the hedges with that round priced (the same array when there is nothing to price).
 */
export function priceHedges(hedges: HedgeRecord[], round: number, promptTokens: number): HedgeRecord[] {
  if (!hedges.some((h) => h.round === round && h.extraPromptTokens === null)) return hedges;
  return hedges.map((h): HedgeRecord =>
    h.round === round && h.extraPromptTokens === null
      ? { ...h, extraPromptTokens: promptTokens * h.extra.filter((e) => e.outcome === 'aborted').length }
      : h,
  );
}

/** The fields a finished round changes: its finish reason and model, reasoning summed over the rounds. */
export function afterRound(
  exchange: ExchangeRecord,
  summary: RoundSummary,
): Pick<ExchangeRecord, 'finishReason' | 'responseModel' | 'reasoningTokens' | 'reasoningMs'> {
  return {
    finishReason: summary.finishReason,
    responseModel: summary.responseModel ?? exchange.responseModel ?? null,
    ...(summary.reasoning
      ? {
          reasoningTokens: (exchange.reasoningTokens ?? 0) + summary.reasoning.tokens,
          reasoningMs: (exchange.reasoningMs ?? 0) + summary.reasoning.ms,
        }
      : {}),
  };
}
