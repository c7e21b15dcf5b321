import { Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CallHistoryRepository, CallSummaryRow } from './call-history.repository';
import { toExportRow } from './call-history.mapper';
import type { ExportFormat } from './dto/export-calls.query.dto';
import type { CallFiltersQueryDto } from './dto/list-calls.query.dto';
import { CallHistoryService } from './call-history.service';
import { escapeCsvFormula } from './csv-cell';

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
] as const;

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** Writes the filtered calls to `out` row by row, with backpressure: memory does not grow with the count. */
@Injectable()
export class CallExportService {
  constructor(
    private readonly history: CallHistoryService,
    private readonly repository: CallHistoryRepository,
  ) {}

  /** Resolves the filters first, so a bad query fails before anything is written. */
  async prepare(query: CallFiltersQueryDto, format: ExportFormat): Promise<(out: Writable) => Promise<void>> {
    const filters = await this.history.resolveFilters(query);
    return async (out) => {
      const encoder = format === 'csv' ? csvEncoder() : ndjsonEncoder();
      if (!filters) {
        await pipeline(emptySource(), encoder, out);
        return;
      }
      const { rows, release } = await this.repository.streamCalls(filters);
      try {
        await pipeline(rows, toExportRows(), encoder, out);
      } finally {
        // pipeline destroys the cursor stream if the client goes away; the connection goes back either way.
        await release();
      }
    };
  }
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

function emptySource() {
  return (async function* () {})();
}
