import type { CallRecordWriterRepository } from '../call-records/call-record-writer.repository';
import type { AuditRow, AuditTable, EventRecord, ExchangeRecord, PhoneSighting, SessionRecord } from './audit-records';

/** Writes rows of one table in one statement; returns those it could not store for want of their call session. */
export async function writeTable<T extends AuditTable>(
  repository: CallRecordWriterRepository,
  instanceId: string,
  table: T,
  rows: Array<AuditRow<T>>,
): Promise<Array<AuditRow<T>>> {
  switch (table) {
    case 'phones':
      await repository.upsertPhones(rows as PhoneSighting[]);
      return [];
    case 'sessions':
      await repository.upsertSessions(rows as SessionRecord[], instanceId);
      return [];
    case 'exchanges':
      return await repository.upsertExchanges(rows as ExchangeRecord[]);
    case 'events':
      await repository.insertEvents(rows as EventRecord[]);
      return [];
  }
  throw new Error(`unknown audit table ${String(table)}`);
}
