import {
  AUDIT_TABLES,
  AuditRow,
  AuditTable,
  EventRecord,
  ExchangeRecord,
  PhoneSighting,
  SessionRecord,
} from './audit-records';
import { estimateJsonBytes } from './row-size';

/** A queued row with its estimated size (see estimateJsonBytes). */
export interface QueuedRow<T> {
  row: T;
  bytes: number;
}

export type QueuedBatch = { [K in AuditTable]: Array<QueuedRow<AuditRow<K>>> };

/** A phone row is a short number and two timestamps; its size is fixed when first seen. */
const PHONE_ROW_OVERHEAD = 80;

export function emptyQueuedBatch(): QueuedBatch {
  return { phones: [], sessions: [], exchanges: [], events: [] };
}

export function queuedRows(batch: QueuedBatch): number {
  return AUDIT_TABLES.reduce((sum, table) => sum + batch[table].length, 0);
}

export function queuedBytes(batch: QueuedBatch): number {
  let bytes = 0;
  for (const table of AUDIT_TABLES) for (const queued of batch[table]) bytes += queued.bytes;
  return bytes;
}

/**
 * Rows waiting for the next flush, counted in rows and in bytes. Sessions and exchanges
 * are full-state snapshots keyed by id (a newer one replaces the queued one), phone
 * sightings merge, events append.
 */
export class AuditQueue {
  private phones = new Map<string, QueuedRow<PhoneSighting>>();
  private sessions = new Map<string, QueuedRow<SessionRecord>>();
  private exchanges = new Map<string, QueuedRow<ExchangeRecord>>();
  private events: Array<QueuedRow<EventRecord>> = [];
  private byteCount = 0;

  get rows(): number {
    return this.phones.size + this.sessions.size + this.exchanges.size + this.events.length;
  }

  get bytes(): number {
    return this.byteCount;
  }

  addSession(record: SessionRecord): void {
    this.sighting(record.fromNumber, record.startedAt);
    this.sighting(record.toNumber, record.startedAt);
    this.replace(this.sessions, record.sessionId, { ...record });
  }

  addExchange(record: ExchangeRecord): void {
    this.replace(this.exchanges, record.id, { ...record });
  }

  addEvent(record: EventRecord): void {
    const bytes = estimateJsonBytes(record);
    this.events.push({ row: record, bytes });
    this.byteCount += bytes;
  }

  /** Everything queued, leaving the queue empty. */
  take(): QueuedBatch {
    const batch: QueuedBatch = {
      phones: [...this.phones.values()],
      sessions: [...this.sessions.values()],
      exchanges: [...this.exchanges.values()],
      events: this.events,
    };
    this.phones = new Map();
    this.sessions = new Map();
    this.exchanges = new Map();
    this.events = [];
    this.byteCount = 0;
    return batch;
  }

  /** Re-queues rows a flush could not write; anything recorded since is newer and wins. */
  putBack(batch: QueuedBatch): void {
    for (const { row } of batch.phones) this.sighting(row.number, row.firstSeenAt, row.lastSeenAt);
    for (const queued of batch.sessions) this.keepOlder(this.sessions, queued.row.sessionId, queued);
    for (const queued of batch.exchanges) this.keepOlder(this.exchanges, queued.row.id, queued);
    this.events = batch.events.concat(this.events);
    for (const queued of batch.events) this.byteCount += queued.bytes;
  }

  private replace<T>(rows: Map<string, QueuedRow<T>>, key: string, row: T): void {
    const bytes = estimateJsonBytes(row);
    this.byteCount += bytes - (rows.get(key)?.bytes ?? 0);
    rows.set(key, { row, bytes });
  }

  private keepOlder<T>(rows: Map<string, QueuedRow<T>>, key: string, queued: QueuedRow<T>): void {
    if (rows.has(key)) return;
    rows.set(key, queued);
    this.byteCount += queued.bytes;
  }

  private sighting(number: string | null, firstSeenAt: string, lastSeenAt = firstSeenAt): void {
    if (number === null) return;
    const known = this.phones.get(number);
    if (!known) {
      const bytes = number.length + PHONE_ROW_OVERHEAD;
      this.phones.set(number, { row: { number, firstSeenAt, lastSeenAt }, bytes });
      this.byteCount += bytes;
      return;
    }
    if (firstSeenAt < known.row.firstSeenAt) known.row.firstSeenAt = firstSeenAt;
    if (lastSeenAt > known.row.lastSeenAt) known.row.lastSeenAt = lastSeenAt;
  }
}
