import { Module } from '@nestjs/common';
import { InstanceModule } from '../instance/instance.module';
import { ObservabilityModule } from '../observability/observability.module';
import { BusMetrics } from './bus-metrics';
import { ClusterBus } from './cluster-bus.service';

/**
 * Postgres LISTEN/NOTIFY between the instances (and workers) on one database. The channels and
 * their messages are in bus-messages.ts; each feature subscribes and publishes on its own.
 */
@Module({
  imports: [InstanceModule, ObservabilityModule],
  providers: [ClusterBus, BusMetrics],
  exports: [ClusterBus],
})
export class ClusterBusModule {}
