import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { CallLifecycleEvent } from '../call-lifecycle/call-lifecycle-event';
import type { SqlExecutor } from '../database/sql-executor';

/**
 * The statements on webhook_deliveries that go with a job in one transaction: the fan-out of
 * call events to endpoints (inside the lifecycle dispatcher's transaction) and a redelivery.
 */
@Injectable()
export class WebhookDeliveryQueueRepository {
  /**
   * One pending delivery per (enabled endpoint that wants the event, event): global endpoints and
   * those of the call's agent. Returns the ids of the rows made now; an event seen again makes none.
   */
  async insertForEvents(events: CallLifecycleEvent[], tx: SqlExecutor): Promise<string[]> {
    if (events.length === 0) return [];
    const { rows } = await tx.executeSql(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, call_id, session_id, occurred_at)
       SELECT ep.id, ev.id, ev.type, ev.call_id, ev.session_id, ev.occurred_at
       FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[])
              AS ev(id, type, call_id, session_id, agent_id, occurred_at)
       JOIN webhook_endpoints ep
         ON ep.enabled AND ev.type = ANY(ep.events) AND (ep.agent_id IS NULL OR ep.agent_id = ev.agent_id)
       ORDER BY ev.occurred_at, ep.id
       ON CONFLICT (endpoint_id, event_id) DO NOTHING
       RETURNING id`,
      [
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => e.callId),
        events.map((e) => e.sessionId),
        events.map((e) => e.agentId),
        events.map((e) => e.occurredAt.toISOString()),
      ],
    );
    return rows.map((r) => String(r.id));
  }

  /**
   * Makes a settled delivery pending again for a redelivery; returns its redelivery number, or
   * 'pending' when it is still being delivered, or null when there is no such delivery.
   */
  async reopen(id: string, tx: SqlExecutor): Promise<number | 'pending' | null> {
    const { rows } = await tx.executeSql(
      `WITH current AS (SELECT id, status FROM webhook_deliveries WHERE id = $1 FOR UPDATE),
       reopened AS (
         UPDATE webhook_deliveries d SET status = 'pending', redeliveries = d.redeliveries + 1, last_error = NULL,
                updated_at = now()
         FROM current c WHERE d.id = c.id AND c.status <> 'pending'
         RETURNING d.redeliveries)
       SELECT (SELECT status FROM current) AS status, (SELECT redeliveries FROM reopened) AS redeliveries`,
      [id],
    );
    const [row] = rows;
    if (!row || row.status === null) return null;
    return row.redeliveries === null ? 'pending' : Number(row.redeliveries);
  }
}

/** A uuid determined by `parts`: the same parts, the same job id, so sending twice queues once. */
export function derivedUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('|')).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
