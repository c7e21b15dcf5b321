import { Injectable } from '@nestjs/common';
import { JobQueue } from './job-queue.service';

export const JOB_STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface QueueSummary {
  queue: string;
  counts: Record<JobState, number>;
  /** When the oldest job still waiting (created or retry) was queued; null when none waits. */
  oldest_waiting_at: string | null;
}

export interface FailedJob {
  id: string;
  queue: string;
  data: unknown;
  error: unknown;
  retry_count: number;
  created_at: string;
  completed_at: string | null;
}

/**
 * What a support lead reads about the jobs: counts by state per queue and the last failures
 * with their error. The one reader of pg-boss' tables (the queue's own pool, so a busy
 * API never delays the workers' connections and the other way round).
 */
@Injectable()
export class JobMonitor {
  constructor(private readonly jobs: JobQueue) {}

  async queues(): Promise<QueueSummary[]> {
    const db = this.jobs.database();
    const { rows: queues } = await db.executeSql(`SELECT name FROM pgboss.queue ORDER BY name`);
    // Archived jobs (finished over 12 hours ago) are not counted: the counts say what is current.
    const { rows } = await db.executeSql(
      `SELECT name, state::text AS state, count(*)::int AS count,
              min(created_on) FILTER (WHERE state IN ('created', 'retry')) AS oldest_waiting
         FROM pgboss.job GROUP BY name, state`,
    );
    return queues.map(({ name }) => {
      const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
      let oldest: Date | null = null;
      for (const row of rows.filter((r) => r.name === name)) {
        counts[row.state as JobState] = row.count as number;
        const waiting = row.oldest_waiting as Date | null;
        if (waiting && (!oldest || waiting < oldest)) oldest = waiting;
      }
      return { queue: name as string, counts, oldest_waiting_at: oldest?.toISOString() ?? null };
    });
  }

  /** The latest failed jobs (of one queue, or all), newest first, from the live and the archived jobs. */
  async failed(queue: string | undefined, limit: number): Promise<FailedJob[]> {
    const { rows } = await this.jobs.database().executeSql(
      `SELECT id, name, data, output, retry_count, created_on, completed_on FROM (
         SELECT id, name, data, output, retry_count, created_on, completed_on FROM pgboss.job
          WHERE state = 'failed' AND ($1::text IS NULL OR name = $1)
         UNION ALL
         SELECT id, name, data, output, retry_count, created_on, completed_on FROM pgboss.archive
          WHERE state = 'failed' AND ($1::text IS NULL OR name = $1)
       ) failed ORDER BY completed_on DESC NULLS LAST LIMIT $2`,
      [queue ?? null, limit],
    );
    return rows.map((r) => ({
      id: r.id as string,
      queue: r.name as string,
      data: r.data,
      error: r.output,
      retry_count: r.retry_count as number,
      created_at: (r.created_on as Date).toISOString(),
      completed_at: (r.completed_on as Date | null)?.toISOString() ?? null,
    }));
  }
}
