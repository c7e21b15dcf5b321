export enum HistoryExceptionCode {
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  PHONE_NUMBER_NOT_FOUND = 'PHONE_NUMBER_NOT_FOUND',
  INVALID_CURSOR = 'INVALID_CURSOR',
  INVALID_TIME_RANGE = 'INVALID_TIME_RANGE',
}

/** Every failure of the history API that is the caller's doing; mapped to HTTP in one place. */
export class HistoryException extends Error {
  constructor(
    readonly code: HistoryExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'HistoryException';
  }
}
