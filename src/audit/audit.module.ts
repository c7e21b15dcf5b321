import { Global, Module } from '@nestjs/common';
import { InstanceModule } from '../instance/instance.module';
import { ObservabilityModule } from '../observability/observability.module';
import { AuditMetrics } from './audit-metrics';
import { AuditWriter } from './audit-writer.service';
import { AuditRepository } from './audit.repository';

@Global()
@Module({
  imports: [InstanceModule, ObservabilityModule],
  providers: [AuditRepository, AuditWriter, AuditMetrics],
  exports: [AuditWriter],
})
export class AuditModule {}
