import 'reflect-metadata';
import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CallRecordsModule } from '../call-records/call-records.module';
import { AppConfigModule } from '../config/config.module';
import { runCommandLine, UsageError } from '../config/command-line';
import { DatabaseModule } from '../database/database.module';
import { AppConfig } from '../config/app-config';
import { JobQueue } from '../jobs/job-queue.service';
import { JobsModule } from '../jobs/jobs.module';
import { callAnalysisQueueSpec } from './call-analysis.job';
import { CallAnalysisRequests } from './call-analysis.requests';

/**
 * Declares the queue without a worker (concurrency 0): the service's instances run the analyses,
 * with every module that listens to `call.analyzed` (webhooks) loaded, which this process has not.
 */
@Injectable()
class QueueWithoutWorker implements OnModuleInit {
  constructor(
    private readonly jobs: JobQueue,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register(callAnalysisQueueSpec(this.config, 0), () => {
      throw new Error('analyses run in the service, not in this command');
    });
  }
}

/** Just what asking for analyses needs: the running service's instances do the work. */
@Module({
  imports: [AppConfigModule, DatabaseModule, CallRecordsModule, JobsModule],
  providers: [CallAnalysisRequests, QueueWithoutWorker],
})
class AnalysisCliModule {}

const USAGE = `Usage: npm run analyze -- --since DATE [--agent AGENT_ID] [--redo] [--no-wait]
Queues the post-call analysis of ended calls that started on or after DATE (ISO 8601), for calls
never analysed or whose analysis failed (--redo: every call), then shows progress until all are
done. The service's instances run the analyses; Ctrl-C stops watching, not the analyses.
  --agent     only this agent's calls
  --redo      analyse again calls analysed already
  --no-wait   queue and exit`;

const PROGRESS_EVERY_MS = 1_000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      since: { type: 'string' },
      agent: { type: 'string' },
      redo: { type: 'boolean', default: false },
      'no-wait': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.since === undefined) throw new UsageError('--since is required');
  const since = new Date(values.since);
  if (!/^\d{4}-\d{2}-\d{2}/.test(values.since) || Number.isNaN(since.getTime()))
    throw new UsageError('--since must be an ISO 8601 date or date-time, e.g. 2026-11-01');

  const app = await NestFactory.createApplicationContext(AnalysisCliModule, { logger: ['error', 'warn'] });
  try {
    const requests = app.get(CallAnalysisRequests);
    const queued = await requests.requestMany({ since, agentId: values.agent, redo: values.redo });
    console.log(`Queued ${queued.length} call(s) for analysis.`);
    if (queued.length === 0 || values['no-wait']) return 0;
    for (;;) {
      const counts = await requests.progress(queued);
      const waiting = (counts.pending ?? 0) + (counts.running ?? 0);
      const done = queued.length - waiting;
      console.log(
        `${done}/${queued.length} done: ${counts.completed ?? 0} completed, ${counts.failed ?? 0} failed` +
          `${counts.superseded ? `, ${counts.superseded} asked for again since` : ''}; ${waiting} waiting`,
      );
      if (waiting === 0) return counts.failed ? 1 : 0;
      await sleep(PROGRESS_EVERY_MS);
    }
  } finally {
    await app.close();
  }
}

runCommandLine(main, USAGE);
