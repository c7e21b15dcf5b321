import { Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CallExportRepository, CallStream } from '../call-records/call-export.repository';
import type { CallSummaryRow } from '../call-records/call-record.types';
import { AppConfig } from '../config/app-config';
import { toExportRow } from './call-history.mapper';
import type { ExportFormat } from './dto/export-calls.query.dto';
import type { CallFiltersQueryDto } from './dto/list-calls.query.dto';
import { CallHistoryService } from './call-history.service';
import { escapeCsvFormula } from './csv-cell';
import { HistoryException, HistoryExceptionCode } from './history.exception';

export const EXPORT_COLUMNS = [
  'session_id',
  'agent_id',
  'call_sid',
  'from_number',
  'to_number',
  'status',
  'end_reason',
  'started_at',
  'ended_at',
  'duration_ms',
  'turn_count',
  'failed_exchanges',
  'has_failures',
  'summary',
  'redacted_at',
  'metadata',
  'analysis_status',
  'outcome',
  'sentiment',
  'analysis_summary',
  'custom_fields',
] as const;

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/**
 * Writes the filtered calls to `out` row by row through a database cursor, with
 * backpressure: memory does not grow with the count. Each export holds a pooled
 * connection while it runs, so at most EXPORT_MAX_CONCURRENT run at once, and one whose
 * client stops reading is cut after EXPORT_STALL_TIMEOUT_MS: the response is destroyed,
 * the cursor closed and the connection returned.
 */
@Injectable()
export class CallExportService {
  private running = 0;

  constructor(
    private readonly history: CallHistoryService,
    private readonly repository: CallExportRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Resolves the filters and fetches the first rows, so a bad or failing query is answered
   * before anything is written. The returned writer must be called: it frees the slot.
   */
  async prepare(query: CallFiltersQueryDto, format: ExportFormat): Promise<(out: Writable) => Promise<void>> {
    const { exportMaxConcurrent, exportStallTimeoutMs } = this.config.history;
    if (this.running >= exportMaxConcurrent) {
      throw new HistoryException(
        HistoryExceptionCode.TOO_MANY_EXPORTS,
        `${exportMaxConcurrent} export(s) already running (EXPORT_MAX_CONCURRENT): try again when one has finished`,
      );
    }
    this.running++;
    let stream: CallStream | null;
    try {
      const filters = await this.history.resolveFilters(query);
      stream = filters ? await this.repository.streamCalls(filters) : null;
    } catch (error) {
      this.running--;
      throw error;
    }
    return async (out) => {
      const encoder = format === 'csv' ? csvEncoder() : ndjsonEncoder();
      // The client going away ends the export at once, even between two writes.
      const gone = new AbortController();
      const onClose = () => {
        if (!out.writableFinished) gone.abort(new Error('the client closed the connection'));
      };
      out.once('close', onClose);
      if (out.destroyed) onClose();
      try {
        await pipeline(stream?.rows ?? emptySource(), toExportRows(), encoder, writeTo(out, exportStallTimeoutMs), {
          signal: gone.signal,
        });
      } finally {
        out.off('close', onClose);
        this.running--;
        // pipeline has destroyed the cursor stream if anything failed; the connection goes back either way.
        await stream?.release();
      }
    };
  }
}

/** The pipeline's last stage: writes to `out`, and gives up when `out` stays full for `stallTimeoutMs`. */
function writeTo(out: Writable, stallTimeoutMs: number) {
  return async (chunks: AsyncIterable<string | Buffer>): Promise<void> => {
    for await (const chunk of chunks) {
      if (!out.write(chunk)) await drained(out, stallTimeoutMs);
    }
    await new Promise<void>((resolve) => out.end(resolve));
  };
}

function drained(out: Writable, stallTimeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      clearTimeout(timer);
      out.off('drain', onDrain);
      out.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(new Error('the client closed the connection'));
    const timer = setTimeout(
      () => settle(new Error(`the client read nothing for ${stallTimeoutMs} ms (EXPORT_STALL_TIMEOUT_MS)`)),
      stallTimeoutMs,
    );
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}

function toExportRows(): Transform {
  return new Transform({
    objectMode: true,
    transform(row: CallSummaryRow, _encoding, done) {
      done(null, toExportRow(row));
    },
  });
}

function ndjsonEncoder(): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(row: unknown, _encoding, done) {
      done(null, JSON.stringify(row) + '\n');
    },
  });
}

function csvEncoder(): Transform {
  return stringify({
    header: true,
    columns: [...EXPORT_COLUMNS],
    cast: {
      boolean: (value) => String(value),
      object: (value) => JSON.stringify(value),
      string: escapeCsvFormula,
    },
  });
}

async function* emptySource(): AsyncGenerator<CallSummaryRow> {}
