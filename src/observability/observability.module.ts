import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { MetricsTokenGuard } from '../auth/metrics-token.guard';
import { CallActivityModule } from '../call-activity/call-activity.module';
import { AppConfig } from '../config/app-config';
import { InstanceModule } from '../instance/instance.module';
import { LlmModule } from '../llm/llm.module';
import { CallActivityMetrics } from './call-activity-metrics';
import { InstanceMetrics } from './instance-metrics';
import { LlmProviderMetrics } from './llm-provider-metrics';
import { loggingParams } from './logging';
import { MetricsScrape } from './metrics-scrape';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * Structured logs and Prometheus metrics: the calls' (from the activity feed), the LLM providers'
 * and the instance's here; modules with metrics of their own import it and register them.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: loggingParams }),
    CallActivityModule,
    LlmModule,
    InstanceModule,
  ],
  controllers: [MetricsController],
  providers: [
    MetricsService,
    MetricsScrape,
    CallActivityMetrics,
    LlmProviderMetrics,
    InstanceMetrics,
    MetricsTokenGuard,
  ],
  exports: [MetricsService, MetricsScrape],
})
export class ObservabilityModule {}
