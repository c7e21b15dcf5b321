import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { WebhookEventType } from './webhook-wire';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed'];

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: WebhookEventType;
  callId: string;
  sessionId: string;
  occurredAt: Date;
  status: DeliveryStatus;
  attempts: number;
  /** One per attempt, in order; null where no answer came. */
  statusCodes: Array<number | null>;
  lastError: string | null;
  lastLatencyMs: number | null;
  redeliveries: number;
  createdAt: Date;
  updatedAt: Date;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
}

/** A delivery with what an attempt needs of its endpoint. */
export interface DeliveryToSend extends WebhookDelivery {
  url: string;
  enabled: boolean;
  /** The current secret first; the previous one while its rotation grace lasts. */
  secrets: string[];
}

export interface DeliveryFilters {
  endpointId?: string;
  status?: DeliveryStatus;
  sessionId?: string;
}

/**
 * Position after the last delivery of a page (created_at DESC, id DESC). created_at travels as text
 * with microseconds: a Date would round it and skip or repeat rows of the same millisecond.
 */
export interface DeliveryListPosition {
  createdAt: string;
  id: string;
}

export interface ListedDelivery {
  delivery: WebhookDelivery;
  position: DeliveryListPosition;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: WebhookEventType;
  call_id: string;
  session_id: string;
  occurred_at: Date;
  status: DeliveryStatus;
  attempts: number;
  status_codes: Array<number | null>;
  last_error: string | null;
  last_latency_ms: number | null;
  redeliveries: number;
  created_at: Date;
  updated_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
}

const COLUMNS = `d.id, d.endpoint_id, d.event_id, d.event_type, d.call_id, d.session_id, d.occurred_at, d.status,
  d.attempts, d.status_codes, d.last_error, d.last_latency_ms, d.redeliveries, d.created_at, d.updated_at,
  d.last_attempt_at, d.delivered_at`;

/** webhook_deliveries as the delivery job and the API use it: one attempt at a time, the log, redelivery. */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findToSend(id: string): Promise<DeliveryToSend | null> {
    const rows: Array<DeliveryRow & { url: string; enabled: boolean; secrets: string[] }> = await this.dataSource.query(
      `SELECT ${COLUMNS}, ep.url, ep.enabled,
              array_remove(ARRAY[ep.secret,
                CASE WHEN ep.previous_secret_expires_at > now() THEN ep.previous_secret END], NULL) AS secrets
       FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
       WHERE d.id = $1`,
      [id],
    );
    if (rows.length === 0) return null;
    const [row] = rows;
    return { ...toDelivery(row), url: row.url, enabled: row.enabled, secrets: row.secrets };
  }

  /**
   * Records one attempt. `final` (the last the queue will make) turns a failure into `failed`.
   * Only a pending delivery changes: one stopped meanwhile (endpoint disabled) stays as it is.
   */
  async recordAttempt(
    id: string,
    attempt: { statusCode: number | null; latencyMs: number; error: string | null },
    final: boolean,
  ): Promise<void> {
    const status: DeliveryStatus = attempt.error === null ? 'delivered' : final ? 'failed' : 'pending';
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET
         attempts = attempts + 1,
         status_codes = status_codes || ARRAY[$2::int],
         last_latency_ms = $3,
         last_error = $4,
         status = $5,
         last_attempt_at = now(),
         updated_at = now(),
         delivered_at = CASE WHEN $5 = 'delivered' THEN now() ELSE delivered_at END
       WHERE id = $1 AND status = 'pending'`,
      [id, attempt.statusCode, attempt.latencyMs, attempt.error, status],
    );
  }

  /** Ends a delivery that cannot be sent (its call is gone, its endpoint disabled), without an attempt. */
  async markFailed(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'failed', last_error = $2, updated_at = now()
       WHERE id = $1 AND status = 'pending'`,
      [id, reason],
    );
  }

  /** Newest first, at most `limit`; `before` continues from the last delivery of a previous page. */
  async list(filters: DeliveryFilters, limit: number, before?: DeliveryListPosition): Promise<ListedDelivery[]> {
    const rows: Array<DeliveryRow & { cursor_created_at: string }> = await this.dataSource.query(
      `SELECT ${COLUMNS},
              to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at
       FROM webhook_deliveries d
       WHERE ($1::uuid IS NULL OR d.endpoint_id = $1)
         AND ($2::text IS NULL OR d.status = $2)
         AND ($3::text IS NULL OR d.session_id = $3)
         AND ($4::timestamptz IS NULL OR (d.created_at, d.id) < ($4::timestamptz, $5::uuid))
       ORDER BY d.created_at DESC, d.id DESC
       LIMIT $6`,
      [
        filters.endpointId ?? null,
        filters.status ?? null,
        filters.sessionId ?? null,
        before?.createdAt ?? null,
        before?.id ?? null,
        limit,
      ],
    );
    return rows.map((row) => ({
      delivery: toDelivery(row),
      position: { createdAt: row.cursor_created_at, id: row.id },
    }));
  }

  async find(id: string): Promise<WebhookDelivery | null> {
    const rows: DeliveryRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM webhook_deliveries d WHERE d.id = $1`,
      [id],
    );
    return rows.length ? toDelivery(rows[0]) : null;
  }

  /** Deliveries still to be sent, for the pending gauge. */
  async countPending(): Promise<number> {
    const [row]: Array<{ count: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM webhook_deliveries WHERE status = 'pending'`,
    );
    return row.count;
  }
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    callId: row.call_id,
    sessionId: row.session_id,
    occurredAt: row.occurred_at,
    status: row.status,
    attempts: row.attempts,
    statusCodes: row.status_codes,
    lastError: row.last_error,
    lastLatencyMs: row.last_latency_ms,
    redeliveries: row.redeliveries,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastAttemptAt: row.last_attempt_at,
    deliveredAt: row.delivered_at,
  };
}
