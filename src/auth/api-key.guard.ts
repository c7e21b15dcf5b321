import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, secretsMatch } from './secrets';
import { AppConfig } from '../config/app-config';

export const API_KEY_HEADER = 'x-api-key';

/** The key from `x-api-key` or `Authorization: Bearer …`. */
export function presentedApiKey(request: Request): string | undefined {
  const header = request.headers[API_KEY_HEADER];
  if (typeof header === 'string' && header) return header;
  return bearerToken(request.headers.authorization);
}

/** Lets a request through only with API_KEY; with no API_KEY configured, nothing gets through. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (!secretsMatch(presentedApiKey(request), this.config.api.key)) {
      throw new UnauthorizedException('A valid API key is required (x-api-key header or Authorization: Bearer).');
    }
    return true;
  }
}
