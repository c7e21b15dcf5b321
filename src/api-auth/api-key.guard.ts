import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config';

export const API_KEY_HEADER = 'x-api-key';

/** The key from `x-api-key` or `Authorization: Bearer …`. */
export function presentedApiKey(request: Request): string | undefined {
  const header = request.headers[API_KEY_HEADER];
  if (typeof header === 'string' && header) return header;
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  return undefined;
}

/** Constant-time: hashing first makes both sides the same length, so timingSafeEqual leaks nothing. */
export function apiKeysMatch(presented: string | undefined, expected: string | undefined): boolean {
  if (presented === undefined || expected === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Lets a request through only with API_KEY; with no API_KEY configured, nothing gets through. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (!apiKeysMatch(presentedApiKey(request), this.config.api.key)) {
      throw new UnauthorizedException('A valid API key is required (x-api-key header or Authorization: Bearer).');
    }
    return true;
  }
}
