import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ConflictException,
  ExceptionFilter,
  HttpException,
  NotFoundException,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

export enum WebhooksExceptionCode {
  ENDPOINT_NOT_FOUND = 'ENDPOINT_NOT_FOUND',
  DELIVERY_NOT_FOUND = 'DELIVERY_NOT_FOUND',
  INVALID_URL = 'INVALID_URL',
  INVALID_CURSOR = 'INVALID_CURSOR',
  DELIVERY_PENDING = 'DELIVERY_PENDING',
}

/** Every failure of /api/webhooks that is the caller's doing; mapped to HTTP in one place. */
export class WebhooksException extends Error {
  constructor(
    readonly code: WebhooksExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhooksException';
  }
}

export function toHttpException(exception: WebhooksException): HttpException {
  switch (exception.code) {
    case WebhooksExceptionCode.ENDPOINT_NOT_FOUND:
    case WebhooksExceptionCode.DELIVERY_NOT_FOUND:
      return new NotFoundException(exception.message);
    case WebhooksExceptionCode.INVALID_URL:
    case WebhooksExceptionCode.INVALID_CURSOR:
      return new BadRequestException(exception.message);
    case WebhooksExceptionCode.DELIVERY_PENDING:
      return new ConflictException(exception.message);
    default: {
      const unhandled: never = exception.code;
      throw new Error(`unmapped webhooks exception code ${String(unhandled)}`);
    }
  }
}

@Catch(WebhooksException)
export class WebhooksExceptionFilter extends BaseExceptionFilter implements ExceptionFilter {
  catch(exception: WebhooksException, host: ArgumentsHost): void {
    super.catch(toHttpException(exception), host);
  }
}
