import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AgentProfileService } from '../agents/agent-profile.service';
import { callLifecycleEvent } from '../call-lifecycle/call-lifecycle-event';
import { CallLifecycle } from '../call-lifecycle/call-lifecycle.service';
import { CallAnalysisRepository } from '../call-records/call-analysis.repository';
import type { AnalysisRequest } from '../call-records/call-analysis.types';
import { describeError } from '../common/describe-error';
import { AppConfig } from '../config/app-config';
import { inTransaction } from '../database/sql-executor';
import type { JobQueueSpec, JobRun } from '../jobs/job-spec';
import { ANALYSIS_REQUEST_TIMEOUT_MS, CallAnalyzer } from './call-analyzer';
import { CallAnalysisMetrics } from './call-analysis-metrics';

export const CALL_ANALYSIS_QUEUE = 'call-analysis';

/** The queue as every process declares it (`concurrency`: analyses at once in this process, ANALYSIS_CONCURRENCY by default). */
export function callAnalysisQueueSpec(config: AppConfig, concurrency = config.analysis.concurrency): JobQueueSpec {
  const { maxAttempts, retryDelaySeconds } = config.analysis;
  return {
    name: CALL_ANALYSIS_QUEUE,
    retryLimit: maxAttempts - 1,
    retryDelaySeconds,
    retryBackoff: true,
    // Past the model's own timeout, with room to read the call and store the answer.
    expireInSeconds: Math.ceil(ANALYSIS_REQUEST_TIMEOUT_MS / 1000) + 60,
    concurrency,
  };
}

/** The job's data: which call, and which request of its analysis (the row's request_id). */
export type CallAnalysisJobData = AnalysisRequest;

/**
 * One attempt at one call's analysis, as a job of the `call-analysis` queue: claims the row
 * (only the request it waits for may), asks the model, and stores the answer together with
 * the `call.analyzed` event in one transaction. A failed attempt puts the reason on the row
 * and throws, so the queue retries it with backoff; after the last one the row is `failed`.
 */
@Injectable()
export class CallAnalysisJob {
  private readonly logger = new Logger('CallAnalysis');

  constructor(
    private readonly repository: CallAnalysisRepository,
    private readonly analyzer: CallAnalyzer,
    private readonly agents: AgentProfileService,
    private readonly lifecycle: CallLifecycle,
    private readonly metrics: CallAnalysisMetrics,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async run(job: JobRun<CallAnalysisJobData>): Promise<void> {
    const request: AnalysisRequest = { callId: job.data.callId, requestId: job.data.requestId };
    if (!(await this.repository.claim(request))) return; // answered, superseded, or the call is gone
    const started = Date.now();
    try {
      const call = await this.repository.findCall(request.callId);
      if (!call) return; // deleted meanwhile: its analysis went with it
      if (call.redacted) {
        await this.repository.recordFailure(request, 'the call is redacted: nothing left to analyse', true);
        this.metrics.attempt('failed', Date.now() - started);
        return;
      }
      const settings = await this.agents.settingsFor(call.agentId).ready;
      const result = await this.analyzer.analyze(call, settings.analysis);
      this.metrics.spent(result.promptTokens, result.completionTokens);
      await inTransaction(this.dataSource, async (tx) => {
        const stored = await this.repository.complete(tx, request, result);
        // Superseded by a re-run while the model was answering: the newer request stores its own.
        if (!stored?.completed_at) return;
        const occurredAt = stored.completed_at;
        const who = { callId: call.id, sessionId: call.sessionId, agentId: call.agentId };
        await this.lifecycle.publish([callLifecycleEvent('call.analyzed', who, occurredAt)], tx);
      });
      this.metrics.attempt('completed', Date.now() - started);
    } catch (error) {
      const final = job.retryCount >= job.retryLimit;
      const reason = describeError(error);
      await this.repository
        .recordFailure(request, reason, final)
        .catch((e: unknown) => this.logger.warn(`could not record a failed analysis: ${describeError(e)}`));
      this.metrics.attempt(final ? 'failed' : 'retried', Date.now() - started);
      this.logger.warn(
        `analysis of call ${request.callId}, attempt ${job.retryCount + 1} of ${job.retryLimit + 1}, failed${final ? ' for good' : ''}: ${reason}`,
      );
      throw error;
    }
  }
}
