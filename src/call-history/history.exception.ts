export enum HistoryExceptionCode {
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  PHONE_NUMBER_NOT_FOUND = 'PHONE_NUMBER_NOT_FOUND',
  INVALID_CURSOR = 'INVALID_CURSOR',
  INVALID_TIME_RANGE = 'INVALID_TIME_RANGE',
  /** The query ran past HISTORY_STATEMENT_TIMEOUT_MS and Postgres cancelled it. */
  QUERY_TIMEOUT = 'QUERY_TIMEOUT',
  /** EXPORT_MAX_CONCURRENT exports are already running. */
  TOO_MANY_EXPORTS = 'TOO_MANY_EXPORTS',
  /** Retention redacted the call: there is nothing left to analyse. */
  CALL_REDACTED = 'CALL_REDACTED',
}

/** Every failure of the history API that it can explain to the caller; mapped to HTTP in one place. */
export class HistoryException extends Error {
  constructor(
    readonly code: HistoryExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'HistoryException';
  }
}
