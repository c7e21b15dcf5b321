import type { EventRecord, ExchangeRecord, PhoneSighting, SessionRecord } from '../call-records/call-record.types';

/** The writer's callers name what they record by these types; they are defined with the tables they fill. */
export type {
  EventRecord,
  ExchangeRecord,
  FailedAttemptRecord,
  HedgeRecord,
  PhoneSighting,
  SessionRecord,
  ToolCallRecord,
  ToolCallStatus,
} from '../call-records/call-record.types';

/** Rows queued for the write-behind, by table. */
export interface AuditBatch {
  phones: PhoneSighting[];
  sessions: SessionRecord[];
  exchanges: ExchangeRecord[];
  events: EventRecord[];
}

/** The audit tables, parents before children: the order every flush writes them in. */
export const AUDIT_TABLES = ['phones', 'sessions', 'exchanges', 'events'] as const;
export type AuditTable = (typeof AUDIT_TABLES)[number];
export type AuditRow<T extends AuditTable> = AuditBatch[T][number];

export function emptyBatch(): AuditBatch {
  return { phones: [], sessions: [], exchanges: [], events: [] };
}

/** A batch holding `rows` of one table. */
export function batchOf(table: AuditTable, rows: Array<AuditRow<AuditTable>>): AuditBatch {
  const batch = emptyBatch();
  (batch[table] as Array<AuditRow<AuditTable>>) = rows;
  return batch;
}

export function batchSize(batch: AuditBatch): number {
  return batch.phones.length + batch.sessions.length + batch.exchanges.length + batch.events.length;
}
