import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AuditWriter } from '../audit/audit-writer.service';
import { CallService } from '../calls/call.service';
import { AuditBacklogHealthIndicator } from './audit-backlog.health';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly auditBacklog: AuditBacklogHealthIndicator,
    private readonly calls: CallService,
    private readonly audit: AuditWriter,
  ) {}

  /** The process answers: for a liveness probe. */
  @Get('live')
  live() {
    return { status: 'ok', activeCalls: this.calls.activeCalls, draining: this.calls.isDraining, audit: this.audit.getStats() };
  }

  /** Can take calls: Postgres answers and the audit backlog is within bounds. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 2_000 }),
      () => this.auditBacklog.check(),
    ]);
  }
}
