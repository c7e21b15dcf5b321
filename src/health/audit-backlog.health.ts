import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AuditWriter } from '../audit/audit-writer.service';
import { AppConfig } from '../config/app-config';

/** Not ready while the audit backlog is past AUDIT_MAX_BACKLOG: new calls would only grow it. */
@Injectable()
export class AuditBacklogHealthIndicator {
  constructor(
    private readonly audit: AuditWriter,
    private readonly config: AppConfig,
    private readonly health: HealthIndicatorService,
  ) {}

  check(key = 'audit'): HealthIndicatorResult {
    const stats = this.audit.getStats();
    const indicator = this.health.check(key);
    const details = { backlog: stats.backlog, maxBacklog: this.config.audit.maxBacklog, deadLettered: stats.deadLettered };
    return this.audit.overBound ? indicator.down(details) : indicator.up(details);
  }
}
