import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AuditWriter } from '../audit/audit-writer.service';
import { CallService } from '../call-socket/call.service';
import { ProcessRole } from '../config/process-role';
import { AuditBacklogHealthIndicator } from './audit-backlog.health';
import { LivenessDto } from './dto/liveness.dto';

/** Probes for load balancers and orchestrators: public, so `security: []` in the OpenAPI document. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly auditBacklog: AuditBacklogHealthIndicator,
    private readonly calls: CallService,
    private readonly audit: AuditWriter,
    private readonly indicators: HealthIndicatorService,
    private readonly role: ProcessRole,
  ) {}

  /** The process answers: for a liveness probe. Public, so counters only: error text stays in the logs. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers', security: [] })
  @ApiOkResponse({ type: LivenessDto, description: 'Always, while the process runs; with call and audit counters.' })
  live(): LivenessDto {
    const { backlog, peakBacklog, rowsWritten, flushes, failedFlushes, deadLettered } = this.audit.getStats();
    return {
      status: 'ok',
      activeCalls: this.calls.activeCalls,
      draining: this.calls.isDraining,
      audit: { backlog, peakBacklog, rowsWritten, flushes, failedFlushes, deadLettered },
      ...(this.role.workerSlot === null ? {} : { worker: this.role.workerSlot }),
    };
  }

  /** Can take calls: not shutting down, Postgres answers, and the audit backlog is within bounds. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: not draining, Postgres answers, audit backlog within bounds', security: [] })
  @HealthCheck()
  ready() {
    return this.health.check([
      () => {
        // A load balancer must stop sending calls as soon as a drain starts, not when the socket closes.
        const indicator = this.indicators.check('calls');
        const details = { active: this.calls.activeCalls, draining: this.calls.isDraining };
        return this.calls.isDraining ? indicator.down(details) : indicator.up(details);
      },
      () => this.database.pingCheck('database', { timeout: 2_000 }),
      () => this.auditBacklog.check(),
    ]);
  }
}
