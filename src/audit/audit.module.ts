import { Module } from '@nestjs/common';
import { CallRecordsModule } from '../call-records/call-records.module';
import { InstanceModule } from '../instance/instance.module';
import { ObservabilityModule } from '../observability/observability.module';
import { AuditMetrics } from './audit-metrics';
import { AuditWriter } from './audit-writer.service';

/** The write-behind audit of calls; modules that record or watch it import this module. */
@Module({
  imports: [CallRecordsModule, InstanceModule, ObservabilityModule],
  providers: [AuditWriter, AuditMetrics],
  exports: [AuditWriter],
})
export class AuditModule {}
