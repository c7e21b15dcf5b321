import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { apiKeysMatch } from '../api-auth/api-key.guard';
import { AppConfig } from '../config/app-config';

/** /metrics takes `Authorization: Bearer METRICS_TOKEN`; with no METRICS_TOKEN, nothing gets through. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const authorization = context.switchToHttp().getRequest<Request>().headers.authorization;
    const presented = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : undefined;
    if (!apiKeysMatch(presented, this.config.security.metricsToken)) {
      throw new UnauthorizedException('A valid metrics token is required (Authorization: Bearer).');
    }
    return true;
  }
}
