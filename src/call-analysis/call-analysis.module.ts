import { Module, OnModuleInit } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { ApiAuthModule } from '../auth/api-auth.module';
import { CallLifecycle } from '../call-lifecycle/call-lifecycle.service';
import { AppConfig } from '../config/app-config';
import { CallLifecycleModule } from '../call-lifecycle/call-lifecycle.module';
import { CallRecordsModule } from '../call-records/call-records.module';
import { JobQueue } from '../jobs/job-queue.service';
import { JobsModule } from '../jobs/jobs.module';
import { LlmModule } from '../llm/llm.module';
import { ObservabilityModule } from '../observability/observability.module';
import { CallAnalysisController } from './call-analysis.controller';
import { CallAnalysisJob, type CallAnalysisJobData, callAnalysisQueueSpec } from './call-analysis.job';
import { CallAnalysisListener } from './call-analysis.listener';
import { CallAnalysisMetrics } from './call-analysis-metrics';
import { CallAnalysisRequests } from './call-analysis.requests';
import { CallAnalyzer } from './call-analyzer';

/**
 * Post-call analysis (docs/call-analysis.md): a job per ended call of an agent with analysis
 * enabled asks the LLM for a summary, an outcome, the caller's sentiment and the agent's custom
 * fields, stored in call_analyses and announced as `call.analyzed`; re-run by
 * POST /api/calls/:sessionId/analysis or `npm run analyze`.
 */
@Module({
  imports: [
    AgentsModule,
    ApiAuthModule,
    CallLifecycleModule,
    CallRecordsModule,
    JobsModule,
    LlmModule,
    ObservabilityModule,
  ],
  controllers: [CallAnalysisController],
  providers: [CallAnalysisJob, CallAnalysisListener, CallAnalysisMetrics, CallAnalysisRequests, CallAnalyzer],
  exports: [CallAnalysisRequests],
})
export class CallAnalysisModule implements OnModuleInit {
  constructor(
    private readonly jobs: JobQueue,
    private readonly lifecycle: CallLifecycle,
    private readonly job: CallAnalysisJob,
    private readonly listener: CallAnalysisListener,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register<CallAnalysisJobData>(callAnalysisQueueSpec(this.config), (run) => this.job.run(run));
    this.lifecycle.subscribe(this.listener);
  }
}
