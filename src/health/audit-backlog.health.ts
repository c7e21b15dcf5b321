import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AuditWriter } from '../audit/audit-writer.service';
import { AppConfig } from '../config/app-config';

/**
 * Not ready while the audit backlog is past AUDIT_MAX_BACKLOG (rows) or AUDIT_MAX_BACKLOG_BYTES:
 * new calls would only grow it; nor while queued rows have not moved for AUDIT_STALL_MS.
 */
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
    const details = {
      backlog: stats.backlog,
      maxBacklog: this.config.audit.maxBacklog,
      backlogBytes: stats.backlogBytes,
      maxBacklogBytes: this.config.audit.maxBacklogBytes,
      stalled: stats.stalled,
      deadLettered: stats.deadLettered,
    };
    return this.audit.overBound || stats.stalled ? indicator.down(details) : indicator.up(details);
  }
}
