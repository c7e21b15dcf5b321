/**
 * What went wrong with a reply, as a kind to count and branch on (never parsed from the message).
 * `rate_limited`: the provider answered 429; `unavailable`: every provider's circuit was open, so
 * none was asked.
 */
export type LlmErrorCode =
  'timeout' | 'unreachable' | 'upstream_error' | 'rate_limited' | 'stream_cut' | 'unavailable' | 'tool_rounds';

/** Why a reply could not be produced; the message is stored in stream_exchanges.error. */
export class LlmReplyError extends Error {
  constructor(
    readonly code: LlmErrorCode,
    message: string,
  ) {
    super(message);
  }
}
