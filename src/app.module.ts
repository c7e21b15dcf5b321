import { Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { CallAnalysisModule } from './call-analysis/call-analysis.module';
import { CallLifecycleModule } from './call-lifecycle/call-lifecycle.module';
import { CallsModule } from './call-socket/calls.module';
import { ClusterBusModule } from './cluster-bus/cluster-bus.module';
import { AppConfigModule } from './config/config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import { AppointmentsModule } from './extensions/appointments/appointments.module';
import { HealthModule } from './health/health.module';
import { InstanceModule } from './instance/instance.module';
import { JobsModule } from './jobs/jobs.module';
import { HistoryModule } from './call-history/history.module';
import { RetentionModule } from './retention/retention.module';
import { ObservabilityModule } from './observability/observability.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    AppConfigModule,
    DatabaseModule,
    InstanceModule,
    ClusterBusModule,
    AuditModule,
    CallsModule,
    HealthModule,
    HistoryModule,
    RetentionModule,
    DashboardModule,
    ObservabilityModule,
    AppointmentsModule,
    JobsModule,
    CallLifecycleModule,
    CallAnalysisModule,
    WebhooksModule,
  ],
})
export class AppModule {}
