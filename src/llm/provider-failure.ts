import { APIConnectionError, APIError } from 'openai';
import { describeError } from '../common/describe-error';
import { LlmReplyError } from './llm-errors';
import type { AttemptFailureCode, FailedAttempt } from './llm-reply';
import type { ProviderAttempt } from './provider-attempt';

/** Longest a provider's retry-after is honoured (its circuit stays open that long). */
const MAX_RETRY_AFTER_MS = 300_000;
/** Answers that say the request, not the provider, is at fault: the next provider is tried, the circuit is not told. */
const REQUEST_REJECTED = new Set([400, 413, 422]);

/** A provider that did not answer: the audit's record of it, and the error the caller may end with. */
export interface Failure {
  record: FailedAttempt;
  error: LlmReplyError;
}

/** Classifies a failed request, ends it and tells its circuit. `error` undefined: the stream ended or went silent. */
export function failAttempt(attempt: ProviderAttempt, error: unknown): Failure {
  let replyError: LlmReplyError;
  let status: number | undefined;
  let retryAfterMs: number | undefined;
  if (attempt.timedOut) {
    replyError = new LlmReplyError(
      'timeout',
      attempt.producedOutput
        ? `no token for ${attempt.timeoutMs} ms mid-reply`
        : `no first token within ${attempt.timeoutMs} ms`,
    );
  } else if (error === undefined) {
    replyError = new LlmReplyError('stream_cut', 'the model stream ended before it finished');
  } else {
    replyError = upstreamError(error);
    if (isApiError(error)) {
      status = error.status;
      retryAfterMs = retryAfter(error);
    }
  }
  attempt.end('failed', replyError.code);
  const { breaker } = attempt.provider;
  if (status !== undefined && REQUEST_REJECTED.has(status)) breaker.released(attempt.permit);
  else breaker.failed(attempt.permit, replyError.message);
  if (retryAfterMs !== undefined)
    breaker.coolDown(
      Math.min(retryAfterMs, MAX_RETRY_AFTER_MS),
      `it answered ${status} with retry-after ${Math.round(retryAfterMs)} ms`,
    );
  const record: FailedAttempt = {
    provider: attempt.provider.name,
    model: attempt.model,
    code: replyError.code as AttemptFailureCode,
    error: replyError.message,
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs: Math.round(retryAfterMs) } : {}),
    startedAt: attempt.startedAtIso,
    durationMs: Math.round(attempt.durationMs),
  };
  return { record, error: replyError };
}

/** When every provider failed: the one failure as it was, or each provider's, in order. */
export function finalError(failures: Failure[]): LlmReplyError {
  const asked = failures.filter((f) => f.record.code !== 'circuit_open');
  if (asked.length === 0) {
    const detail = failures.map((f) => `${f.record.provider} ${f.record.error}`).join('; ');
    return new LlmReplyError('unavailable', `no LLM provider available: ${detail || 'none configured for this agent'}`);
  }
  if (failures.length === 1) return failures[0].error;
  const last = asked[asked.length - 1].error;
  return new LlmReplyError(last.code, failures.map((f) => `${f.record.provider}: ${f.error.message}`).join('; '));
}

/** The kind comes from the error's class: a provider that was never reached did not answer anything. */
function upstreamError(error: unknown): LlmReplyError {
  if (error instanceof APIConnectionError)
    return new LlmReplyError('unreachable', `LLM provider unreachable: ${rootCause(error)}`);
  if (error instanceof APIError) {
    return new LlmReplyError(
      error.status === 429 ? 'rate_limited' : 'upstream_error',
      `LLM provider answered ${error.status ?? 'with an error'}: ${error.message}`,
    );
  }
  return new LlmReplyError('upstream_error', `LLM request failed: ${describeError(error)}`);
}
/** retry-after-ms (Azure), else retry-after in seconds or as an HTTP date. */
function retryAfter(error: APIError): number | undefined {
  if (error.status !== 429 && error.status !== 503) return undefined;
  const { headers } = error;
  const ms = Number.parseFloat(headers?.get?.('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get?.('retry-after');
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** "Connection error." says nothing; the socket error under it (ECONNREFUSED, ENOTFOUND...) does. */
function rootCause(error: Error): string {
  let deepest: ErrorLike = error;
  // Duck-typed: Node's own errors may come from another realm (a test VM), where instanceof fails.
  while (isErrorLike(deepest.cause)) deepest = deepest.cause;
  return text(deepest.message) || text(deepest.code) || error.message;
}

/** A socket error's message or code; anything else says nothing. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** `instanceof` alone narrows to APIError<any, any, any>: this keeps its declared field types. */
function isApiError(error: unknown): error is APIError {
  return error instanceof APIError;
}

type ErrorLike = { message?: unknown; code?: unknown; cause?: unknown };

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && 'message' in value;
}
