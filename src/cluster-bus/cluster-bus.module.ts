import { Module } from '@nestjs/common';
import { CallActivityModule } from '../call-activity/call-activity.module';
import { CallRecordsModule } from '../call-records/call-records.module';
import { InstanceModule } from '../instance/instance.module';
import { ObservabilityModule } from '../observability/observability.module';
import { BusMetrics } from './bus-metrics';
import { ClusterBus } from './cluster-bus.service';
import { LiveActivityBridge } from './live-activity-bridge';

/**
 * Postgres LISTEN/NOTIFY between the instances (and workers) on one database. The channels and
 * their messages are in bus-messages.ts; each feature subscribes and publishes on its own. The
 * live view's side (the calls of every instance) is here, beside the bus.
 */
@Module({
  imports: [InstanceModule, ObservabilityModule, CallActivityModule, CallRecordsModule],
  providers: [ClusterBus, BusMetrics, LiveActivityBridge],
  exports: [ClusterBus],
})
export class ClusterBusModule {}
