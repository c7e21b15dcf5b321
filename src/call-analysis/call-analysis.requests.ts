import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { toCallAnalysis } from '../call-history/call-history.mapper';
import type { CallAnalysisDto } from '../call-history/dto/call-analysis.dto';
import { HistoryException, HistoryExceptionCode } from '../call-history/history.exception';
import { BulkSelection, CallAnalysisRepository } from '../call-records/call-analysis.repository';
import type { AnalysisRequest } from '../call-records/call-analysis.types';
import { inTransaction } from '../database/sql-executor';
import { JobQueue } from '../jobs/job-queue.service';
import { CALL_ANALYSIS_QUEUE } from './call-analysis.job';

/**
 * Analyses asked for by hand: one call again (the API), or every call since a date (the CLI).
 * Each request gets a new id, so it supersedes whatever attempt was under way; its row and its
 * job are written in one transaction.
 */
@Injectable()
export class CallAnalysisRequests {
  constructor(
    private readonly repository: CallAnalysisRepository,
    private readonly jobs: JobQueue,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async rerun(sessionId: string): Promise<CallAnalysisDto> {
    const call = await this.repository.findCallId(sessionId);
    if (!call)
      throw new HistoryException(HistoryExceptionCode.SESSION_NOT_FOUND, `no call with session id ${sessionId}`);
    if (call.redacted)
      throw new HistoryException(
        HistoryExceptionCode.CALL_REDACTED,
        `call ${sessionId} is redacted: nothing left to analyse`,
      );
    const request: AnalysisRequest = { callId: call.id, requestId: randomUUID() };
    const row = await inTransaction(this.dataSource, async (tx) => {
      const pending = await this.repository.request(tx, request);
      await this.jobs.send(CALL_ANALYSIS_QUEUE, request, { id: request.requestId, tx });
      return pending;
    });
    return toCallAnalysis(row);
  }

  /** Asks for the analysis of every matching call; returns the requests made. */
  async requestMany(selection: BulkSelection): Promise<AnalysisRequest[]> {
    return inTransaction(this.dataSource, async (tx) => {
      const requests = await this.repository.requestMany(tx, selection);
      for (const request of requests) await this.jobs.send(CALL_ANALYSIS_QUEUE, request, { id: request.requestId, tx });
      return requests;
    });
  }

  progress(requests: AnalysisRequest[]) {
    return this.repository.progress(requests.map((r) => r.requestId));
  }
}
