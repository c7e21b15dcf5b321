import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CallEventDispatchRepository, ClaimedCall } from '../call-records/call-event-dispatch.repository';
import { describeError } from '../common/describe-error';
import { AppConfig } from '../config/app-config';
import { inTransaction, SqlExecutor } from '../database/sql-executor';
import { CallLifecycleEvent, callLifecycleEvent, CallLifecycleListener } from './call-lifecycle-event';

/** Calls claimed in one transaction. */
const BATCH = 100;

/**
 * Hands each stored call's start and end to the listeners (analysis, webhooks), once, across
 * every instance and worker: every process polls, and a claim takes the rows it dispatches
 * (SKIP LOCKED) in the same transaction as the listeners' rows and jobs. What is not yet
 * dispatched is a null in call_sessions, so nothing is lost to a restart or an outage, and the
 * calls themselves never wait: the audit stores the row, this follows.
 */
@Injectable()
export class CallLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(CallLifecycle.name);
  private readonly listeners: CallLifecycleListener[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private failures = 0;
  /** Events handed to the listeners, and failed dispatches (read by the metrics). */
  readonly stats = { dispatched: 0, failedDispatches: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly dispatch: CallEventDispatchRepository,
    private readonly config: AppConfig,
  ) {}

  /** Call from a module's onModuleInit. */
  subscribe(listener: CallLifecycleListener): void {
    this.listeners.push(listener);
  }

  /** Hands events raised elsewhere (call.analyzed) to the listeners, inside the caller's transaction. */
  async publish(events: CallLifecycleEvent[], tx: SqlExecutor): Promise<void> {
    if (events.length === 0) return;
    for (const listener of this.listeners) await listener.onCallEvents(events, tx);
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: dispatches what is pending now; returns how many events were handed on. */
  async dispatchPending(): Promise<number> {
    const starts = await this.dispatch.pendingStarts(BATCH);
    const ends = await this.dispatch.pendingEnds(BATCH);
    if (starts.length + ends.length === 0) return 0;
    try {
      return await this.dispatchCalls(starts, ends);
    } catch (error) {
      // One call's events may be what fails: each then goes alone, so the others are not held up.
      this.reportFailure(error);
      let dispatched = 0;
      for (const id of starts) dispatched += await this.dispatchAlone([id], []);
      for (const id of ends) dispatched += await this.dispatchAlone([], [id]);
      return dispatched;
    }
  }

  private async dispatchAlone(starts: string[], ends: string[]): Promise<number> {
    try {
      return await this.dispatchCalls(starts, ends);
    } catch (error) {
      this.reportFailure(error);
      return 0;
    }
  }

  private async dispatchCalls(startIds: string[], endIds: string[]): Promise<number> {
    const count = await inTransaction(this.dataSource, async (tx) => {
      const started = await this.dispatch.claimStarts(tx, startIds);
      const ended = await this.dispatch.claimEnds(tx, endIds);
      const events = [
        ...started.map((c: ClaimedCall) => callLifecycleEvent('call.started', c, c.at)),
        ...ended.map((c: ClaimedCall) => callLifecycleEvent('call.ended', c, c.at)),
      ];
      await this.publish(events, tx);
      return events.length;
    });
    this.stats.dispatched += count;
    return count;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick();
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let dispatched = 0;
    try {
      dispatched = await this.dispatchPending();
      this.failures = 0;
    } catch (error) {
      // Postgres is away: try again at the next poll.
      this.reportFailure(error);
    }
    // A full batch means more may wait: go on at once.
    this.schedule(dispatched >= BATCH ? 0 : this.config.jobs.callEventsPollMs);
  }

  private reportFailure(error: unknown): void {
    this.stats.failedDispatches++;
    this.failures++;
    if (this.failures <= 3 || this.failures % 60 === 0) {
      this.logger.warn(`Call events not dispatched (retried): ${describeError(error)}`);
    }
  }
}
