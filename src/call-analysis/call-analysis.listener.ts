import { Injectable } from '@nestjs/common';
import { AgentProfileService } from '../agents/agent-profile.service';
import type { CallLifecycleEvent, CallLifecycleListener } from '../call-lifecycle/call-lifecycle-event';
import { CallAnalysisRepository } from '../call-records/call-analysis.repository';
import type { AnalysisRequest } from '../call-records/call-analysis.types';
import type { SqlExecutor } from '../database/sql-executor';
import { JobQueue } from '../jobs/job-queue.service';
import { CALL_ANALYSIS_QUEUE } from './call-analysis.job';

/**
 * Asks for the analysis of each ended call whose agent has it enabled: a pending row and its
 * job, in the dispatcher's transaction, both keyed by the event's id so that an event that
 * comes again (after a rollback) asks once.
 */
@Injectable()
export class CallAnalysisListener implements CallLifecycleListener {
  constructor(
    private readonly agents: AgentProfileService,
    private readonly repository: CallAnalysisRepository,
    private readonly jobs: JobQueue,
  ) {}

  async onCallEvents(events: CallLifecycleEvent[], tx: SqlExecutor): Promise<void> {
    const wanted: AnalysisRequest[] = [];
    for (const event of events) {
      if (event.type !== 'call.ended') continue;
      // Cached per agent: no query for an agent seen before.
      const settings = await this.agents.settingsFor(event.agentId).ready;
      if (settings.analysis.enabled) wanted.push({ callId: event.callId, requestId: event.id });
    }
    for (const request of await this.repository.insertPending(tx, wanted))
      await this.jobs.send(CALL_ANALYSIS_QUEUE, request, { id: request.requestId, tx });
  }
}
