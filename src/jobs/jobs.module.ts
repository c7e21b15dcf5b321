import { Module } from '@nestjs/common';
import { ApiAuthModule } from '../auth/api-auth.module';
import { ObservabilityModule } from '../observability/observability.module';
import { JobMetrics } from './job-metrics';
import { JobMonitor } from './job-monitor';
import { JobQueue } from './job-queue.service';
import { JobsController } from './jobs.controller';

/**
 * Durable work after the call (pg-boss on the service's Postgres). Modules with work of their
 * own import it, register their queue with its handler, and send jobs.
 */
@Module({
  imports: [ApiAuthModule, ObservabilityModule],
  controllers: [JobsController],
  providers: [JobQueue, JobMonitor, JobMetrics],
  exports: [JobQueue],
})
export class JobsModule {}
