import { Module } from '@nestjs/common';
import { CallRecordsModule } from '../call-records/call-records.module';
import { ObservabilityModule } from '../observability/observability.module';
import { CallLifecycleMetrics } from './call-lifecycle-metrics';
import { CallLifecycle } from './call-lifecycle.service';

/** A stored call's events (started, ended, analyzed) for the modules that act on them. */
@Module({
  imports: [CallRecordsModule, ObservabilityModule],
  providers: [CallLifecycle, CallLifecycleMetrics],
  exports: [CallLifecycle],
})
export class CallLifecycleModule {}
