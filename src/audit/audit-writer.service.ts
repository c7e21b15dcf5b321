import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { CallRecordWriterRepository } from '../call-records/call-record-writer.repository';
import { describeError } from '../common/describe-error';
import { AppConfig } from '../config/app-config';
import { ServiceInstance } from '../instance/service-instance';
import { splitIntoChunks } from './audit-chunks';
import { AuditQueue, emptyQueuedBatch, QueuedBatch, QueuedRow, queuedBytes, queuedRows } from './audit-queue';
import {
  AUDIT_TABLES,
  AuditRow,
  AuditTable,
  emptyBatch,
  EventRecord,
  ExchangeRecord,
  SessionRecord,
} from './audit-records';
import { DeadLetter, DeadLetterFile } from './dead-letter-file';
import { RefusalTally } from './refusal-tally';
import { describeWriteFailure } from './write-failure';
import { writeTable } from './write-table';

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
 * backoff. A refusal (Postgres answers that some rows cannot be stored) is never
 * retried: the statement is halved until the refused rows are alone, every other row
 * is written, and only the refused ones go to the dead-letter file with Postgres'
 * code and message. So one bad row never holds up the rows behind it.
 */
@Injectable()
export class AuditWriter implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditWriter.name);
  private readonly queue = new AuditQueue();
  private readonly deadLetters: DeadLetterFile;

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
    deadLettered: 0,
    lastError: null as string | null,
  };
  private backlogWarned = false;
  private deadLetterFileFailing = false;
  private readonly batchListeners: Array<(durationMs: number, ok: boolean) => void> = [];

  constructor(
    private readonly repository: CallRecordWriterRepository,
    private readonly config: AppConfig,
    /** Stamped on the sessions it writes. */
    private readonly instance: ServiceInstance,
  ) {
    this.deadLetters = new DeadLetterFile(config.audit.deadLetterFile);
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
    return { backlog: this.backlog, backlogBytes: this.backlogBytes, ...this.stats, stalled: this.stalled };
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
      const batch = emptyBatch();
      for (const table of AUDIT_TABLES)
        setRows(
          batch,
          table,
          left[table].map((q) => q.row),
        );
      await this.appendDeadLetter({
        reason: `database unreachable at shutdown: ${this.stats.lastError ?? 'no answer'}`,
        code: null,
        batch,
      });
    }
    await this.appendDeadLetter();
    this.logger.log(
      `Audit flushed at shutdown: ${this.stats.rowsWritten} rows written, ${this.stats.deadLettered} dead-lettered`,
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
    await this.appendDeadLetter();
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
            await this.writeChunk(table, chunk, refusals);
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

  /** Writes a chunk; on a refusal, halves it until each refused row is alone. Throws on an outage: the caller keeps the chunk for the retry. */
  private async writeChunk(
    table: AuditTable,
    chunk: Array<QueuedRow<AuditRow<AuditTable>>>,
    refusals: RefusalTally,
  ): Promise<void> {
    let missingParent: Array<AuditRow<AuditTable>>;
    try {
      missingParent = await writeTable(
        this.repository,
        this.instance.id,
        table,
        chunk.map((q) => q.row),
      );
    } catch (error) {
      const failure = describeWriteFailure(error);
      if (failure.kind === 'outage') throw error;
      if (chunk.length === 1) {
        await this.refuse(table, [chunk[0].row], failure.code, failure.message, refusals);
        return;
      }
      const half = Math.ceil(chunk.length / 2);
      await this.writeChunk(table, chunk.slice(0, half), refusals);
      await this.writeChunk(table, chunk.slice(half), refusals);
      return;
    }
    this.stats.rowsWritten += chunk.length - missingParent.length;
    this.lastProgressAt = Date.now();
    if (missingParent.length > 0) {
      await this.refuse(
        table,
        missingParent,
        'missing_session',
        'the call session of this row is not stored (it was refused)',
        refusals,
      );
    }
  }

  private async refuse(
    table: AuditTable,
    rows: Array<AuditRow<AuditTable>>,
    code: string | null,
    message: string,
    refusals: RefusalTally,
  ): Promise<void> {
    const batch = emptyBatch();
    setRows(batch, table, rows);
    await this.appendDeadLetter({ reason: message, code, batch });
    this.lastProgressAt = Date.now();
    refusals.add(table, code, message, rows.length);
  }

  /** Appends a dead letter (and any the file refused before); a file error is logged once and the rows kept for the next attempt. */
  private async appendDeadLetter(letter?: DeadLetter): Promise<void> {
    try {
      this.stats.deadLettered += await this.deadLetters.append(letter);
      if (this.deadLetterFileFailing) this.logger.log(`${this.config.audit.deadLetterFile} is writable again`);
      this.deadLetterFileFailing = false;
    } catch (error) {
      if (!this.deadLetterFileFailing) {
        this.logger.error(
          `Cannot append to ${this.config.audit.deadLetterFile} (${describeError(error)}); refused audit rows are kept in memory and retried at every flush`,
        );
      }
      this.deadLetterFileFailing = true;
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

function setRows(batch: ReturnType<typeof emptyBatch>, table: AuditTable, rows: Array<AuditRow<AuditTable>>): void {
  (batch[table] as Array<AuditRow<AuditTable>>) = rows;
}

function setQueued(batch: QueuedBatch, table: AuditTable, rows: Array<QueuedRow<AuditRow<AuditTable>>>): void {
  (batch[table] as Array<QueuedRow<AuditRow<AuditTable>>>) = rows;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
