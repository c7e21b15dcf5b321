import type PgBoss from 'pg-boss';
import { within } from '../common/within';
import type { JobHandler, JobQueueSpec } from './job-spec';

interface WorkerHooks {
  /** Whether the event loop is busy with calls: then a freed slot waits for the next poll. */
  loopBusy(): boolean;
  logError(error: unknown): void;
}

/** Between polls of an empty queue. */
const POLLING_INTERVAL_MS = 1_000;

/**
 * Runs one queue's jobs in this process: fetches as many as it has free slots, runs each with the
 * queue's expiry, and completes or fails it. pg-boss' own workers are not used: their stop leaves a
 * poll running for as long as any fetch is pending, and a fetch waiting for a connection when the
 * pool closes never settles, so a stopped service kept polling. Here shutdown knows when the loop
 * and every handler are done, and nothing of the queue outlives it.
 */
export class QueueWorker {
  private readonly active = new Map<string, Promise<void>>();
  private readonly expiries = new Set<NodeJS.Timeout>();
  private stopping = false;
  private closed = false;
  private woken = false;
  private wakeUp?: () => void;
  private loop?: Promise<void>;

  constructor(
    private readonly boss: PgBoss,
    private readonly spec: JobQueueSpec,
    private readonly handler: JobHandler,
    private readonly hooks: WorkerHooks,
  ) {}

  start(): void {
    this.loop = this.poll();
  }

  /**
   * Fetches no more; running jobs get `graceMs`. Those still running after it are failed (retried
   * later, here or by another instance) and get `graceMs` again before the connections close.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    const deadline = Date.now() + graceMs;
    await within(this.loop ?? Promise.resolve(), graceMs);
    await within(Promise.allSettled([...this.active.values()]), deadline - Date.now());
    if (this.active.size > 0) {
      const reason = new Error('the service shut down while it ran');
      for (const id of this.active.keys()) {
        try {
          await this.boss.fail(this.spec.name, id, reason);
        } catch (error) {
          this.hooks.logError(error);
        }
      }
      await within(Promise.allSettled([...this.active.values()]), graceMs);
    }
    this.closed = true;
    for (const timer of this.expiries) clearTimeout(timer);
    this.expiries.clear();
  }

  private async poll(): Promise<void> {
    const slots = this.spec.concurrency ?? 1;
    while (!this.stopping) {
      const free = slots - this.active.size;
      if (free > 0) {
        let jobs: PgBoss.JobWithMetadata<object>[] = [];
        try {
          // An outage reads as an empty queue in pg-boss' fetch: the next poll tries again.
          jobs = (await this.boss.fetch<object>(this.spec.name, { batchSize: free, includeMetadata: true })) ?? [];
        } catch (error) {
          this.hooks.logError(error);
        }
        // Fetched after the shutdown gave up waiting: left active, they expire and are retried.
        if (this.closed) return;
        // Fetched while stopping, they are active in the table already: they run, under the same grace.
        for (const job of jobs) this.begin(job);
      }
      if (!this.stopping) await this.pause(POLLING_INTERVAL_MS);
    }
  }

  private begin(job: PgBoss.JobWithMetadata<object>): void {
    const run = this.execute(job).finally(() => {
      this.active.delete(job.id);
      // pg-boss would wait out the polling interval after each job; while calls leave the event
      // loop idle enough, the freed slot fetches at once instead.
      if (!this.stopping && !this.hooks.loopBusy()) this.wake();
    });
    this.active.set(job.id, run);
  }

  private async execute(job: PgBoss.JobWithMetadata<object>): Promise<void> {
    const limitMs = Math.max(1, job.expireInSeconds ?? this.spec.expireInSeconds) * 1_000;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the job ran past its ${limitMs} ms`)), limitMs);
      this.expiries.add(timer);
    });
    let failure: Error | null = null;
    try {
      await Promise.race([
        this.handler({ id: job.id, data: job.data, retryCount: job.retryCount, retryLimit: job.retryLimit }),
        expired,
      ]);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      clearTimeout(timer);
      this.expiries.delete(timer!);
    }
    // After shutdown the pool is gone: the job was failed by stop() and will be retried.
    if (this.closed) return;
    try {
      if (failure) await this.boss.fail(this.spec.name, job.id, failure);
      else await this.boss.complete(this.spec.name, job.id);
    } catch (error) {
      // The job stays active until it expires, then is retried.
      this.hooks.logError(error);
    }
  }

  /** Waits `ms`, or less when a slot frees or the worker stops (a wake before the pause counts too). */
  private pause(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }
}
