import type { HttpException } from '@nestjs/common';
import type { Response } from 'express';

/** Answers from a plain Express middleware in the shape Nest gives every HttpException. */
export function sendHttpException(res: Response, exception: HttpException): void {
  res.status(exception.getStatus()).json(exception.getResponse());
}
