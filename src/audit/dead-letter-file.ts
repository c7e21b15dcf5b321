import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError } from '../common/describe-error';
import { AuditBatch, AuditTable, batchSize } from './audit-records';

export interface DeadLetter {
  /** Postgres' message, or why the rows could not be written at all. */
  reason: string;
  /** SQLSTATE when Postgres refused the rows, the writer's own code otherwise, null for an outage without one. */
  code: string | null;
  batch: AuditBatch;
}

/**
 * AUDIT_DEAD_LETTER_FILE: one JSON line per dead letter, `{at, reason, code, batch}`,
 * `batch` in the shape the writer queues (replayable). Lines the file system refuses are
 * kept and appended again at the next attempt, so a full disk loses nothing either.
 */
export class DeadLetterFile {
  private lines: string[] = [];
  private rowsInLines = 0;

  constructor(private readonly path: string) {}

  /** Rows waiting to be appended (the file could not be written yet). */
  get pendingRows(): number {
    return this.rowsInLines;
  }

  /** Appends `letter` and anything still pending; resolves with the rows appended, or throws with them kept. */
  async append(letter?: DeadLetter): Promise<number> {
    if (letter) {
      this.lines.push(toLine(letter));
      this.rowsInLines += batchSize(letter.batch);
    }
    if (this.lines.length === 0) return 0;
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, this.lines.join('\n') + '\n', 'utf8');
    const appended = this.rowsInLines;
    this.lines = [];
    this.rowsInLines = 0;
    return appended;
  }
}

function toLine(letter: DeadLetter): string {
  const at = new Date().toISOString();
  try {
    return JSON.stringify({ at, ...letter });
  } catch (error) {
    // Too deep or circular for JSON: keep what identifies the rows.
    return JSON.stringify({
      at,
      ...letter,
      batch: null,
      unserializable: describeError(error),
      rows: identify(letter.batch),
    });
  }
}

/** Each row's key, table by table in the order they are written. */
function identify(batch: AuditBatch): Record<AuditTable, string[]> {
  return {
    phones: batch.phones.map((row) => row.number),
    sessions: batch.sessions.map((row) => row.sessionId),
    exchanges: batch.exchanges.map((row) => row.id),
    events: batch.events.map((row) => row.id),
  };
}
