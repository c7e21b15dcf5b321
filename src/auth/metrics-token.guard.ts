import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, secretsMatch } from './secrets';
import { AppConfig } from '../config/app-config';

/** /metrics takes `Authorization: Bearer METRICS_TOKEN`; with no METRICS_TOKEN, nothing gets through. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const presented = bearerToken(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (!secretsMatch(presented, this.config.security.metricsToken)) {
      throw new UnauthorizedException('A valid metrics token is required (Authorization: Bearer).');
    }
    return true;
  }
}
