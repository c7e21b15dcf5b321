import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuditModule } from '../audit/audit.module';
import { CallsModule } from '../call-socket/calls.module';
import { AuditBacklogHealthIndicator } from './audit-backlog.health';
import { HealthController } from './health.controller';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), AuditModule, CallsModule],
  controllers: [HealthController],
  providers: [AuditBacklogHealthIndicator],
})
export class HealthModule {}
