import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import { DataSource } from 'typeorm';
import { describeError } from '../common/describe-error';
import { within } from '../common/within';
import { AppConfig } from '../config/app-config';
import { ProcessRole } from '../config/process-role';
import type { SqlExecutor } from '../database/sql-executor';
import type { JobHandler, JobQueueSpec, JobRun } from './job-spec';
import { QueueWorker } from './queue-worker';

export interface SendOptions {
  /** A deterministic uuid makes the send idempotent: a job with this id already queued is not queued again. */
  id?: string;
  /** Enqueue inside this transaction, atomically with the caller's rows. */
  tx?: SqlExecutor;
  startAfterSeconds?: number;
  retryLimit?: number;
  retryDelaySeconds?: number;
  retryBackoff?: boolean;
  expireInSeconds?: number;
}

/** Held while queues are declared (next to the migrations' 727_001). */
const QUEUE_DECLARATION_LOCK_KEY = 727_002;

/**
 * Above this share of time the event loop is busy (calls), a worker that just ran a job waits out
 * the polling interval before the next; below it, it goes on at once. Calls come first.
 */
const BUSY_EVENT_LOOP = 0.5;

/**
 * Durable jobs in the service's own Postgres (pg-boss, schema `pgboss`): they survive restarts
 * and outages, are retried with backoff, and each runs in one process at a time across every
 * instance and worker (pg-boss fetches with SKIP LOCKED). The queue has its own small pool, so
 * slow jobs never hold the connections that calls, the API and the audit use.
 */
@Injectable()
export class JobQueue implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobQueue.name);
  private readonly queues = new Map<string, { spec: JobQueueSpec; handler: JobHandler }>();
  private boss?: PgBoss;
  private started = false;
  private readonly whenStarted: Promise<void>;
  private markStarted!: (outcome: Error | null) => void;
  private errorsLogged = 0;
  private loopSample = performance.eventLoopUtilization();
  private loopSampledAt = performance.now();
  private busy = false;
  private readonly workers: QueueWorker[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly role: ProcessRole,
  ) {
    this.whenStarted = new Promise<void>((resolve, reject) => {
      this.markStarted = (error) => (error ? reject(error) : resolve());
    });
    // A start-up that failed is reported by onApplicationBootstrap; senders see it through ready().
    this.whenStarted.catch(() => undefined);
  }

  /** Declares a queue and its handler; call before the application starts. A handler that throws fails the attempt. */
  register<T extends object>(spec: JobQueueSpec, handler: (job: JobRun<T>) => Promise<void>): void {
    if (this.queues.has(spec.name)) throw new Error(`Job queue ${spec.name} is registered twice`);
    if (this.started) throw new Error(`Job queue ${spec.name} is registered after the queue started`);
    this.queues.set(spec.name, { spec, handler: handler as JobHandler });
  }

  /** Resolves once the queues exist and their workers poll; sends wait for it. */
  ready(): Promise<void> {
    return this.whenStarted;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.started = true;
    try {
      await this.start();
      this.markStarted(null);
    } catch (error) {
      this.markStarted(error instanceof Error ? error : new Error(describeError(error)));
      throw error;
    }
  }

  /** Enqueues a job; returns its id, or null when `options.id` is already queued. */
  async send<T extends object>(queue: string, data: T, options: SendOptions = {}): Promise<string | null> {
    await this.ready();
    if (!this.queues.has(queue)) throw new Error(`No job queue named ${queue}`);
    const given = {
      id: options.id,
      db: options.tx,
      startAfter: options.startAfterSeconds,
      retryLimit: options.retryLimit,
      retryDelay: options.retryDelaySeconds,
      retryBackoff: options.retryBackoff,
      expireInSeconds: options.expireInSeconds,
    };
    // pg-boss checks every key present: an undefined one would fail its validation, not mean "the queue's".
    const sendOptions = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    return this.boss!.send(queue, data, sendOptions);
  }

  /** The job queue's own connection, for reads of its tables (the monitor). */
  database(): SqlExecutor {
    if (!this.boss) throw new Error('The job queue is not started');
    return this.boss.getDb();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.boss) return;
    const grace = this.config.call.shutdownGraceMs;
    // No new jobs are fetched; running ones get the grace, then are failed (retried later) and get it again.
    await Promise.all(this.workers.map((worker) => worker.stop(grace)));
    // Closing waits for the pool's connections; one stuck in an outage must not hold the shutdown.
    await within(
      this.boss.stop({ graceful: false, wait: true }).catch((error: unknown) => this.logError(error)),
      grace,
    );
  }

  private async start(): Promise<void> {
    const url = (this.dataSource.options as { url: string }).url;
    const boss = new PgBoss({
      connectionString: url,
      max: this.config.jobs.poolSize,
      application_name:
        this.role.workerSlot === null ? 'millis-llm-service jobs' : `millis-llm-service jobs w${this.role.workerSlot}`,
      schema: 'pgboss',
      // No cron schedules: the clock monitor and cron polling would only add load.
      schedule: false,
      archiveCompletedAfterSeconds: 12 * 3600,
      archiveFailedAfterSeconds: 12 * 3600,
      deleteAfterDays: this.config.jobs.keepDays,
    });
    // An unhandled 'error' event would end the process; an outage is retried by pg-boss itself.
    boss.on('error', (error: unknown) => this.logError(error));
    await boss.start();
    this.boss = boss;
    await this.declareQueues(boss, url);
    for (const { spec, handler } of this.queues.values()) {
      if ((spec.concurrency ?? 1) < 1) continue;
      const worker = new QueueWorker(boss, spec, handler, {
        loopBusy: () => this.loopBusy(),
        logError: (error) => this.logError(error),
      });
      this.workers.push(worker);
      worker.start();
    }
  }

  /**
   * Creates each queue (nothing when it exists) and applies its retry settings. Processes starting
   * together on a new database would deadlock in pg-boss' queue creation, so they take turns under
   * an advisory lock, held by a connection of its own for these few statements.
   */
  private async declareQueues(boss: PgBoss, url: string): Promise<void> {
    const lock = new Client({ connectionString: url, application_name: 'millis-llm-service job queues' });
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [QUEUE_DECLARATION_LOCK_KEY]);
      for (const { spec } of this.queues.values()) {
        const options = {
          name: spec.name,
          policy: 'standard' as const,
          retryLimit: spec.retryLimit,
          retryDelay: spec.retryDelaySeconds,
          retryBackoff: spec.retryBackoff,
          expireInSeconds: spec.expireInSeconds,
        };
        await boss.createQueue(spec.name, options);
        await boss.updateQueue(spec.name, options);
      }
    } finally {
      // Closing the session releases the lock too.
      await lock.end();
    }
  }

  /** Whether the event loop was busy more than BUSY_EVENT_LOOP of the time since the last look (at most every 250 ms). */
  private loopBusy(): boolean {
    const now = performance.now();
    if (now - this.loopSampledAt >= 250) {
      const current = performance.eventLoopUtilization();
      this.busy = performance.eventLoopUtilization(current, this.loopSample).utilization > BUSY_EVENT_LOOP;
      this.loopSample = current;
      this.loopSampledAt = now;
    }
    return this.busy;
  }

  private logError(error: unknown): void {
    // During an outage every poll fails: the first few are logged, then one in a hundred.
    this.errorsLogged++;
    if (this.errorsLogged <= 5 || this.errorsLogged % 100 === 0) {
      this.logger.warn(`Job queue: ${describeError(error)} (${this.errorsLogged} error(s) so far)`);
    }
  }
}
