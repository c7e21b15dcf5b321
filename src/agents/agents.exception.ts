import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  ExceptionFilter,
  HttpException,
  NotFoundException,
} from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

export enum AgentsExceptionCode {
  PROFILE_NOT_FOUND = 'PROFILE_NOT_FOUND',
  UNKNOWN_TOOL = 'UNKNOWN_TOOL',
  DUPLICATE_DESTINATION = 'DUPLICATE_DESTINATION',
  UNKNOWN_PROVIDER = 'UNKNOWN_PROVIDER',
  INVALID_ANALYSIS = 'INVALID_ANALYSIS',
}

/** Every failure of /api/agents that is the caller's doing; mapped to HTTP in one place. */
export class AgentsException extends Error {
  constructor(
    readonly code: AgentsExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'AgentsException';
  }
}

export function toHttpException(exception: AgentsException): HttpException {
  switch (exception.code) {
    case AgentsExceptionCode.PROFILE_NOT_FOUND:
      return new NotFoundException(exception.message);
    case AgentsExceptionCode.UNKNOWN_TOOL:
    case AgentsExceptionCode.DUPLICATE_DESTINATION:
    case AgentsExceptionCode.UNKNOWN_PROVIDER:
    case AgentsExceptionCode.INVALID_ANALYSIS:
      return new BadRequestException(exception.message);
    default: {
      const unhandled: never = exception.code;
      throw new Error(`unmapped agents exception code ${String(unhandled)}`);
    }
  }
}

@Catch(AgentsException)
export class AgentsExceptionFilter extends BaseExceptionFilter implements ExceptionFilter {
  catch(exception: AgentsException, host: ArgumentsHost): void {
    super.catch(toHttpException(exception), host);
  }
}
