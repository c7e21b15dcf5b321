import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from '../audit/audit.module';
import { CallRecordsModule } from '../call-records/call-records.module';
import { CallsModule } from '../call-socket/calls.module';
import { AppConfig } from '../config/app-config';
import { LlmModule } from '../llm/llm.module';
import { InstanceHeartbeat } from '../instance/instance-heartbeat.service';
import { loggingParams } from './logging';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from '../auth/metrics-token.guard';
import { ServiceInstance } from '../instance/service-instance';

/** Structured logs, Prometheus metrics, and this instance's heartbeat among its peers. */
@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: loggingParams }),
    AuditModule,
    CallRecordsModule,
    CallsModule,
    LlmModule,
  ],
  controllers: [MetricsController],
  providers: [MetricsService, MetricsTokenGuard, ServiceInstance, InstanceHeartbeat],
  exports: [MetricsService, ServiceInstance],
})
export class ObservabilityModule {}
