import { BadRequestException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { sendHttpException } from './http-error-response';

/**
 * Refuses, before any route runs, a URL whose text no handler can use: a NUL character
 * (%00), which Postgres text cannot hold (the query failed with a 500), or a path with
 * broken percent-encoding (the router's error became a 404).
 */
export function urlGuard(req: Request, res: Response, next: NextFunction): void {
  const problem = urlProblem(req.originalUrl);
  if (problem) sendHttpException(res, new BadRequestException(problem));
  else next();
}

export function urlProblem(url: string): string | undefined {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  const query = at === -1 ? '' : url.slice(at + 1);
  if (/%00/.test(path)) return 'the URL path contains a NUL character (%00)';
  for (const segment of path.split('/')) {
    try {
      decodeURIComponent(segment);
    } catch {
      return `the URL path has malformed percent-encoding in "${segment}"`;
    }
  }
  if (/%00/.test(query)) {
    for (const [name, value] of new URLSearchParams(query)) {
      if (name.includes('\0') || value.includes('\0')) {
        return `query parameter "${name.replaceAll('\0', '%00')}" contains a NUL character (%00)`;
      }
    }
  }
  return undefined;
}
