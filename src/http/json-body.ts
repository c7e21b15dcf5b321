import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { isPostgresStorable } from '../common/postgres-text';
import { sendHttpException } from './http-error-response';

/** Largest JSON body read; an agent profile (the largest body the API takes) is under 30 KB. */
export const JSON_BODY_LIMIT_BYTES = 100 * 1024;
const JSON_TYPE = 'application/json';

/**
 * JSON request bodies for every route, with their errors answered right here: left to
 * travel down the middleware stack, the static-file handler's error hook turned them into
 * 404 "Cannot PUT". Registered before app.init(), so Nest does not add its own JSON parser.
 */
export function installJsonBody(app: NestExpressApplication): void {
  app.use(refuseOtherBodyTypes);
  app.useBodyParser('json', { type: JSON_TYPE, limit: JSON_BODY_LIMIT_BYTES, reviver: refuseUnstorableText });
  app.use(answerBodyErrors);
}

/** A body in another format would reach the handlers as an empty object, and e.g. PUT a blank profile. */
function refuseOtherBodyTypes(req: Request, res: Response, next: NextFunction): void {
  if (req.is(JSON_TYPE) === false) {
    sendHttpException(res, new UnsupportedMediaTypeException(`send the request body as ${JSON_TYPE}`));
  } else {
    next();
  }
}

/**
 * Postgres text and jsonb cannot hold NUL or a lone UTF-16 surrogate (a 500 when written):
 * such a body is the caller's mistake. `__proto__` is refused too: class-transformer drops
 * it silently, so it would pass as an unknown field nobody was told about.
 */
export function refuseUnstorableText(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SyntaxError('the key "__proto__" is not allowed');
  if (!isPostgresStorable(key)) throw new SyntaxError(`a key contains a NUL character or a lone surrogate`);
  if (typeof value === 'string' && !isPostgresStorable(value)) {
    throw new SyntaxError(`${key ? `"${key}"` : 'the body'} contains a NUL character or a lone surrogate`);
  }
  return value;
}

function answerBodyErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  const exception = toHttpException(error);
  if (exception) sendHttpException(res, exception);
  else next(error);
}

/** body-parser's errors carry a `type`; anything else is not ours to answer. */
function toHttpException(error: unknown): HttpException | undefined {
  const { type, status, message } = (error ?? {}) as { type?: unknown; status?: unknown; message?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number') return undefined;
  switch (type) {
    case 'entity.parse.failed':
      return new BadRequestException(`invalid JSON body: ${String(message)}`);
    case 'entity.too.large':
      return new PayloadTooLargeException(`JSON body larger than ${JSON_BODY_LIMIT_BYTES} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeException(String(message));
    default:
      return status >= 400 && status < 500 ? new HttpException(String(message), status) : undefined;
  }
}
