import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ConflictException,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { QueryTimeoutError } from '../call-records/statement-timeout';
import { HistoryException, HistoryExceptionCode } from './history.exception';

export function toHttpException(exception: HistoryException): HttpException {
  switch (exception.code) {
    case HistoryExceptionCode.SESSION_NOT_FOUND:
    case HistoryExceptionCode.PHONE_NUMBER_NOT_FOUND:
      return new NotFoundException(exception.message);
    case HistoryExceptionCode.INVALID_CURSOR:
    case HistoryExceptionCode.INVALID_TIME_RANGE:
      return new BadRequestException(exception.message);
    case HistoryExceptionCode.CALL_REDACTED:
      return new ConflictException(exception.message);
    case HistoryExceptionCode.QUERY_TIMEOUT:
      return new ServiceUnavailableException(exception.message);
    case HistoryExceptionCode.TOO_MANY_EXPORTS:
      return new HttpException(
        { statusCode: HttpStatus.TOO_MANY_REQUESTS, error: 'Too Many Requests', message: exception.message },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    default: {
      const unhandled: never = exception.code;
      throw new Error(`unmapped history exception code ${String(unhandled)}`);
    }
  }
}

/** A read Postgres cancelled, as the API explains it. */
export function queryTimedOut(error: QueryTimeoutError): HistoryException {
  return new HistoryException(
    HistoryExceptionCode.QUERY_TIMEOUT,
    `the query took longer than ${error.timeoutMs} ms (HISTORY_STATEMENT_TIMEOUT_MS) and was cancelled: narrow the time range or filters, or try again`,
  );
}

@Catch(HistoryException, QueryTimeoutError)
export class HistoryExceptionFilter extends BaseExceptionFilter implements ExceptionFilter {
  catch(exception: HistoryException | QueryTimeoutError, host: ArgumentsHost): void {
    super.catch(toHttpException(exception instanceof QueryTimeoutError ? queryTimedOut(exception) : exception), host);
  }
}
