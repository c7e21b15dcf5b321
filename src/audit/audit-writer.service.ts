import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { CallRecordWriterRepository } from '../call-records/call-record-writer.repository';
import { describeError } from '../common/describe-error';
import { AppConfig } from '../config/app-config';
import { ServiceInstance } from '../instance/service-instance';
import { splitIntoChunks } from './audit-chunks';
import { AuditQueue, emptyQueuedBatch, QueuedBatch, QueuedRow, queuedBytes, queuedRows } from './audit-queue';
import { AUDIT_TABLES, AuditRow, AuditTable, EventRecord, ExchangeRecord, SessionRecord } from './audit-records';
import { ChunkWriter } from './chunk-writer';
import { DeadLetterOutbox } from './dead-letter-outbox';
import { RefusalTally } from './refusal-tally';
import { describeWriteFailure } from './write-failure';

export interface AuditStats {
  /** Rows queued, being written, or waiting for the dead-letter file. */
  backlog: number;
  /** Estimated size of the queued rows (see estimateJsonBytes). */
  backlogBytes: number;
  peakBacklog: number;
  peakBacklogBytes: number;
  rowsWritten: number;
  flushes: number;
  /** Flushes stopped by an outage; their rows were kept for the retry. */
  failedFlushes: number;
  deadLettered: number;
  lastError: string | null;
  /** True when rows have waited AUDIT_STALL_MS past a flush without any being stored or dead-lettered. */
  stalled: boolean;
}

const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Write-behind for the audit trail. Calls hand it full-state records synchronously
 * (never awaiting Postgres between an LLM token and the caller); a timer writes them
 * in statements bounded in rows and bytes, on the audit's own pool.
 *
 * An outage (the database cannot take writes) keeps every row and retries with
 * backoff. A refusal goes to the dead-letter file, row by row (see ChunkWriter), so one
 * bad row never holds up the rows behind it.
 */
@Injectable()
export class AuditWriter implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditWriter.name);
  private readonly queue = new AuditQueue();
  private readonly deadLetters: DeadLetterOutbox;
  private readonly chunks: ChunkWriter;

  private inFlight: Promise<void> | null = null;
  private inFlightRows = 0;
  private inFlightBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryDelayMs = 0;
  private stopped = false;
  /** Last time a row was stored or dead-lettered, or the writer went from idle to busy. */
  private lastProgressAt = Date.now();
  private readonly stats = {
    peakBacklog: 0,
    peakBacklogBytes: 0,
    rowsWritten: 0,
    flushes: 0,
    failedFlushes: 0,
    lastError: null as string | null,
  };
  private backlogWarned = false;
  private readonly batchListeners: Array<(durationMs: number, ok: boolean) => void> = [];

  constructor(
    repository: CallRecordWriterRepository,
    private readonly config: AppConfig,
    /** Stamped on the sessions it writes. */
    instance: ServiceInstance,
  ) {
    this.deadLetters = new DeadLetterOutbox(config.audit.deadLetterFile, this.logger);
    this.chunks = new ChunkWriter(repository, instance, this.deadLetters, (stored) => {
      this.stats.rowsWritten += stored;
      this.lastProgressAt = Date.now();
    });
  }

  onModuleInit(): void {
    this.schedule(this.config.audit.flushIntervalMs);
  }

  recordSession(record: SessionRecord): void {
    this.beforeEnqueue();
    this.queue.addSession(record);
    this.afterEnqueue();
  }

  recordExchange(record: ExchangeRecord): void {
    this.beforeEnqueue();
    this.queue.addExchange(record);
    this.afterEnqueue();
  }

  recordEvent(record: EventRecord): void {
    this.beforeEnqueue();
    this.queue.addEvent(record);
    this.afterEnqueue();
  }

  get backlog(): number {
    return this.queue.rows + this.inFlightRows + this.deadLetters.pendingRows;
  }

  get backlogBytes(): number {
    return this.queue.bytes + this.inFlightBytes;
  }

  getStats(): AuditStats {
    const { peakBacklog, peakBacklogBytes, rowsWritten, flushes, failedFlushes, lastError } = this.stats;
    return {
      backlog: this.backlog,
      backlogBytes: this.backlogBytes,
      peakBacklog,
      peakBacklogBytes,
      rowsWritten,
      flushes,
      failedFlushes,
      deadLettered: this.deadLetters.deadLettered,
      lastError,
      stalled: this.stalled,
    };
  }

  /** True while the backlog is at AUDIT_MAX_BACKLOG rows or AUDIT_MAX_BACKLOG_BYTES or more: new calls are refused until it drains. */
  get overBound(): boolean {
    return this.backlog >= this.config.audit.maxBacklog || this.backlogBytes >= this.config.audit.maxBacklogBytes;
  }

  /** True when queued rows have not moved for AUDIT_STALL_MS beyond a flush interval. */
  get stalled(): boolean {
    return (
      this.backlog > 0 &&
      Date.now() - this.lastProgressAt > this.config.audit.flushIntervalMs + this.config.audit.stallMs
    );
  }

  /** Called after every flush attempt (for metrics). */
  onBatchWritten(listener: (durationMs: number, ok: boolean) => void): void {
    this.batchListeners.push(listener);
  }

  /** Writes everything queued so far; resolves once each row is stored or dead-lettered, throws on an outage. */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.queue.rows === 0 && this.deadLetters.pendingRows === 0) return;
    this.inFlight = this.writeQueued().finally(() => {
      this.inFlight = null;
      this.inFlightRows = 0;
      this.inFlightBytes = 0;
    });
    await this.inFlight;
  }

  /** Drains the queue before the database connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + this.config.audit.shutdownFlushMs;
    while (this.backlog > 0 && Date.now() < deadline) {
      let failed = false;
      try {
        await this.flush();
      } catch {
        failed = true;
      }
      // Wait before retrying an outage, or a dead-letter file that could not be written.
      if (failed || (this.queue.rows === 0 && this.backlog > 0))
        await delay(Math.min(1_000, Math.max(0, deadline - Date.now())));
    }
    if (this.queue.rows > 0) {
      // Only rows an outage kept are left: Postgres never said they were unwritable.
      const left = this.queue.take();
      await this.deadLetters.append({
        reason: `database unreachable at shutdown: ${this.stats.lastError ?? 'no answer'}`,
        code: null,
        batch: {
          phones: left.phones.map((q) => q.row),
          sessions: left.sessions.map((q) => q.row),
          exchanges: left.exchanges.map((q) => q.row),
          events: left.events.map((q) => q.row),
        },
      });
    }
    await this.deadLetters.append();
    this.logger.log(
      `Audit flushed at shutdown: ${this.stats.rowsWritten} rows written, ${this.deadLetters.deadLettered} dead-lettered`,
    );
  }

  private beforeEnqueue(): void {
    if (this.backlog === 0) this.lastProgressAt = Date.now();
  }

  private afterEnqueue(): void {
    const backlog = this.backlog;
    const bytes = this.backlogBytes;
    if (backlog > this.stats.peakBacklog) this.stats.peakBacklog = backlog;
    if (bytes > this.stats.peakBacklogBytes) this.stats.peakBacklogBytes = bytes;
    if (!this.backlogWarned && this.overBound) {
      this.backlogWarned = true;
      this.logger.error(
        `Audit backlog reached ${backlog} rows, about ${bytes} bytes (AUDIT_MAX_BACKLOG / AUDIT_MAX_BACKLOG_BYTES): new calls are refused (503) until it drains; rows of calls in progress are kept in memory`,
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
      if (!this.overBound) this.backlogWarned = false;
    } catch (error) {
      this.retryDelayMs = Math.min(
        MAX_RETRY_DELAY_MS,
        Math.max(this.config.audit.flushIntervalMs, this.retryDelayMs * 2),
      );
      this.logger.warn(
        `Audit write failed (${describeError(error)}); ${this.backlog} rows queued, retrying in ${this.retryDelayMs} ms`,
      );
    }
    this.schedule(this.retryDelayMs || this.config.audit.flushIntervalMs);
  }

  private async writeQueued(): Promise<void> {
    await this.deadLetters.append();
    const batch = this.queue.take();
    this.inFlightRows = queuedRows(batch);
    this.inFlightBytes = queuedBytes(batch);
    const refusals = new RefusalTally();
    const started = performance.now();
    const unwritten = emptyQueuedBatch();
    try {
      for (const [index, table] of AUDIT_TABLES.entries()) {
        const chunks = splitIntoChunks<AuditRow<AuditTable>>(
          batch[table],
          this.config.audit.batchSize,
          this.config.audit.batchBytes,
        );
        for (const [chunkIndex, chunk] of chunks.entries()) {
          try {
            await this.chunks.write(table, chunk, refusals);
          } catch (error) {
            setQueued(unwritten, table, chunks.slice(chunkIndex).flat());
            for (const later of AUDIT_TABLES.slice(index + 1)) setQueued(unwritten, later, batch[later]);
            throw error;
          }
          this.inFlightRows -= chunk.length;
          for (const queued of chunk) this.inFlightBytes -= queued.bytes;
        }
      }
      this.stats.flushes++;
      this.notifyBatch(started, true);
    } catch (error) {
      this.queue.putBack(unwritten);
      this.stats.failedFlushes++;
      this.stats.lastError = describeWriteFailure(error).message;
      this.notifyBatch(started, false);
      throw error;
    } finally {
      this.logRefusals(refusals);
    }
  }

  private logRefusals(refusals: RefusalTally): void {
    if (refusals.rows === 0) return;
    this.logger.error(
      `Postgres refused ${refusals.rows} audit row(s), written to ${this.config.audit.deadLetterFile}; every other row was stored (${refusals.describe()})`,
    );
  }

  private notifyBatch(started: number, ok: boolean): void {
    const durationMs = performance.now() - started;
    for (const listener of this.batchListeners) listener(durationMs, ok);
  }
}

function setQueued(batch: QueuedBatch, table: AuditTable, rows: Array<QueuedRow<AuditRow<AuditTable>>>): void {
  (batch[table] as Array<QueuedRow<AuditRow<AuditTable>>>) = rows;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
