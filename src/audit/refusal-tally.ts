import type { AuditTable } from './audit-records';

/** Postgres messages can quote a value; logs keep only their start. */
const LOGGED_MESSAGE_CHARS = 300;

/** The rows refused during one flush, by table and code, for one log line instead of one per row. */
export class RefusalTally {
  rows = 0;
  private readonly byCode = new Map<string, { rows: number; message: string }>();

  add(table: AuditTable, code: string | null, message: string, rows: number): void {
    this.rows += rows;
    const key = `${table} ${code ?? ''}`;
    const seen = this.byCode.get(key);
    if (seen) seen.rows += rows;
    else this.byCode.set(key, { rows, message });
  }

  describe(): string {
    return [...this.byCode.entries()]
      .map(([key, { rows, message }]) => `${key}: ${rows} row(s), "${message.slice(0, LOGGED_MESSAGE_CHARS)}"`)
      .join('; ');
  }
}
