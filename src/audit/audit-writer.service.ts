import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppConfig } from '../config/app-config';
import { AuditBatch, batchSize, EventRecord, ExchangeRecord, PhoneSighting, SessionRecord } from './audit-records';
import { AuditRepository } from './audit.repository';
import { isDataError } from './database-errors';

export interface AuditStats {
  backlog: number;
  peakBacklog: number;
  rowsWritten: number;
  flushes: number;
  failedFlushes: number;
  deadLettered: number;
  lastError: string | null;
}

const MAX_RETRY_DELAY_MS = 5_000;
const SHUTDOWN_FLUSH_DEADLINE_MS = 30_000;

/**
 * Write-behind for the audit trail. Calls hand it full-state records synchronously
 * (never awaiting Postgres between an LLM token and the caller); a timer writes them
 * in batches. A failed batch goes back into the queue and is retried with backoff, so
 * an outage delays rows but loses none. A row Postgres refuses outright is written to
 * the dead-letter file rather than blocking every row behind it.
 */
@Injectable()
export class AuditWriter implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditWriter.name);
  private sessions = new Map<string, SessionRecord>();
  private exchanges = new Map<string, ExchangeRecord>();
  private events: EventRecord[] = [];
  private phones = new Map<string, PhoneSighting>();

  private inFlight: Promise<void> | null = null;
  private inFlightRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryDelayMs = 0;
  private stopped = false;
  private readonly stats: Omit<AuditStats, 'backlog'> = {
    peakBacklog: 0,
    rowsWritten: 0,
    flushes: 0,
    failedFlushes: 0,
    deadLettered: 0,
    lastError: null,
  };
  private backlogWarned = false;
  private readonly batchListeners: Array<(durationMs: number, ok: boolean) => void> = [];

  constructor(
    private readonly repository: AuditRepository,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.schedule(this.config.audit.flushIntervalMs);
  }

  recordSession(record: SessionRecord): void {
    this.sighting(record.fromNumber, record.startedAt);
    this.sighting(record.toNumber, record.startedAt);
    this.sessions.set(record.sessionId, { ...record });
    this.afterEnqueue();
  }

  recordExchange(record: ExchangeRecord): void {
    this.exchanges.set(record.id, { ...record });
    this.afterEnqueue();
  }

  recordEvent(record: EventRecord): void {
    this.events.push(record);
    this.afterEnqueue();
  }

  /** Rows queued or being written. */
  get backlog(): number {
    return this.pendingRows() + this.inFlightRows;
  }

  getStats(): AuditStats {
    return { backlog: this.backlog, ...this.stats };
  }

  /** True while the backlog is at AUDIT_MAX_BACKLOG or more: new calls are refused until it drains. */
  get overBound(): boolean {
    return this.backlog >= this.config.audit.maxBacklog;
  }

  /** Called after every batch write attempt (for metrics). */
  onBatchWritten(listener: (durationMs: number, ok: boolean) => void): void {
    this.batchListeners.push(listener);
  }

  /** Writes everything queued so far; resolves once it is in Postgres (or throws if it is not). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.pendingRows() === 0) return;
    this.inFlight = this.writeSnapshot().finally(() => {
      this.inFlight = null;
      this.inFlightRows = 0;
    });
    await this.inFlight;
  }

  /** Drains the queue before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + SHUTDOWN_FLUSH_DEADLINE_MS;
    while (this.backlog > 0 && Date.now() < deadline) {
      try {
        await this.flush();
      } catch {
        await delay(Math.min(1_000, Math.max(0, deadline - Date.now())));
      }
    }
    if (this.backlog > 0) {
      const batch = this.takeSnapshot();
      await this.deadLetter(batch, 'database unreachable at shutdown');
    }
    this.logger.log(`Audit flushed at shutdown: ${this.stats.rowsWritten} rows written, ${this.stats.deadLettered} dead-lettered`);
  }

  private afterEnqueue(): void {
    const backlog = this.backlog;
    if (backlog > this.stats.peakBacklog) this.stats.peakBacklog = backlog;
    if (backlog >= this.config.audit.maxBacklog && !this.backlogWarned) {
      this.backlogWarned = true;
      this.logger.error(
        `Audit backlog reached ${backlog} rows (AUDIT_MAX_BACKLOG): new calls are refused (503) until it drains; rows of calls in progress are kept in memory`,
      );
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.flush();
      if (this.retryDelayMs > 0) this.logger.log('Audit writes recovered; backlog drained');
      this.retryDelayMs = 0;
      this.backlogWarned = false;
    } catch (error) {
      this.retryDelayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(this.config.audit.flushIntervalMs, this.retryDelayMs * 2));
      this.logger.warn(`Audit write failed (${(error as Error).message}); ${this.backlog} rows queued, retrying in ${this.retryDelayMs} ms`);
    }
    this.schedule(this.retryDelayMs || this.config.audit.flushIntervalMs);
  }

  private async writeSnapshot(): Promise<void> {
    const batch = this.takeSnapshot();
    this.inFlightRows = batchSize(batch);
    const started = performance.now();
    try {
      for (const chunk of chunksOf(batch, this.config.audit.batchSize)) {
        await this.repository.writeBatch(chunk);
        this.stats.rowsWritten += batchSize(chunk);
      }
      this.stats.flushes++;
      this.notifyBatch(started, true);
    } catch (error) {
      this.notifyBatch(started, false);
      this.stats.failedFlushes++;
      this.stats.lastError = (error as Error).message;
      if (isDataError(error)) {
        await this.writeRowByRow(batch);
        return;
      }
      this.putBack(batch);
      throw error;
    }
  }

  /** Isolates the rows Postgres refuses; the others are written, the refused ones dead-lettered. */
  private async writeRowByRow(batch: AuditBatch): Promise<void> {
    const singles: AuditBatch[] = [
      ...batch.phones.map((p) => ({ ...emptyBatch(), phones: [p] })),
      ...batch.sessions.map((s) => ({ ...emptyBatch(), sessions: [s] })),
      ...batch.exchanges.map((e) => ({ ...emptyBatch(), exchanges: [e] })),
      ...batch.events.map((e) => ({ ...emptyBatch(), events: [e] })),
    ];
    const rejected = emptyBatch();
    for (const single of singles) {
      try {
        await this.repository.writeBatch(single);
        this.stats.rowsWritten++;
      } catch (error) {
        if (!isDataError(error)) {
          this.putBack(single);
          continue;
        }
        for (const key of Object.keys(rejected) as Array<keyof AuditBatch>) rejected[key].push(...(single[key] as never[]));
      }
    }
    if (batchSize(rejected) > 0) await this.deadLetter(rejected, this.stats.lastError ?? 'rejected by Postgres');
  }

  private async deadLetter(batch: AuditBatch, reason: string): Promise<void> {
    const file = this.config.audit.deadLetterFile;
    await mkdir(dirname(file), { recursive: true });
    const line = JSON.stringify({ at: new Date().toISOString(), reason, batch });
    await appendFile(file, line + '\n', 'utf8');
    this.stats.deadLettered += batchSize(batch);
    this.logger.error(`${batchSize(batch)} audit rows written to ${file}: ${reason}`);
  }

  private takeSnapshot(): AuditBatch {
    const batch: AuditBatch = {
      phones: [...this.phones.values()],
      sessions: [...this.sessions.values()],
      exchanges: [...this.exchanges.values()],
      events: this.events,
    };
    this.phones = new Map();
    this.sessions = new Map();
    this.exchanges = new Map();
    this.events = [];
    return batch;
  }

  /** Re-queues a failed batch; anything recorded since is newer and wins. */
  private putBack(batch: AuditBatch): void {
    for (const phone of batch.phones) this.sighting(phone.number, phone.firstSeenAt, phone.lastSeenAt);
    for (const session of batch.sessions) if (!this.sessions.has(session.sessionId)) this.sessions.set(session.sessionId, session);
    for (const exchange of batch.exchanges) if (!this.exchanges.has(exchange.id)) this.exchanges.set(exchange.id, exchange);
    this.events = batch.events.concat(this.events);
  }

  private sighting(number: string | null, firstSeenAt: string, lastSeenAt = firstSeenAt): void {
    if (number === null) return;
    const known = this.phones.get(number);
    if (!known) {
      this.phones.set(number, { number, firstSeenAt, lastSeenAt });
      return;
    }
    if (firstSeenAt < known.firstSeenAt) known.firstSeenAt = firstSeenAt;
    if (lastSeenAt > known.lastSeenAt) known.lastSeenAt = lastSeenAt;
  }

  private notifyBatch(started: number, ok: boolean): void {
    const durationMs = performance.now() - started;
    for (const listener of this.batchListeners) listener(durationMs, ok);
  }

  private pendingRows(): number {
    return this.phones.size + this.sessions.size + this.exchanges.size + this.events.length;
  }
}

function emptyBatch(): AuditBatch {
  return { phones: [], sessions: [], exchanges: [], events: [] };
}

/** Splits a batch so no statement carries more than `size` rows; parents come before children. */
function* chunksOf(batch: AuditBatch, size: number): Generator<AuditBatch> {
  for (const key of ['phones', 'sessions', 'exchanges', 'events'] as const) {
    const rows = batch[key];
    for (let i = 0; i < rows.length; i += size) {
      yield { ...emptyBatch(), [key]: rows.slice(i, i + size) };
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
