import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';

export interface RetentionCounts {
  calls: number;
  exchanges: number;
  events: number;
}

export interface RetentionPreview extends RetentionCounts {
  strayEvents: number;
  phoneNumbers: number;
}

/** Any constant works, as long as every instance of the service uses the same one. */
const RETENTION_LOCK_KEY = 727_002;

const REDACTED = '[redacted]';

/**
 * Deletion and redaction of old calls. Every batch is one short transaction over at most `batchSize` calls,
 * taking row locks only (SKIP LOCKED), so the audit writer is never held up for long.
 */
@Injectable()
export class CallRetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Runs `work` unless another instance holds the retention lock; returns undefined if it does. */
  async whileLocked<T>(work: () => Promise<T>): Promise<T | undefined> {
    const runner: QueryRunner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        RETENTION_LOCK_KEY,
      ])) as Array<{
        locked: boolean;
      }>;
      if (!locked) return undefined;
      try {
        return await work();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }

  async preview(cutoff: Date, onlyUnredacted: boolean): Promise<RetentionPreview> {
    const [row] = await this.dataSource.query<RetentionPreview[]>(
      `WITH expired AS (
         SELECT id FROM call_sessions WHERE started_at < $1 AND (NOT $2 OR redacted_at IS NULL)
       )
       SELECT (SELECT count(*) FROM expired)::int AS calls,
              (SELECT count(*) FROM stream_exchanges e WHERE e.call_session_id IN (SELECT id FROM expired))::int AS exchanges,
              (SELECT count(*) FROM call_events ev WHERE ev.call_session_id IN (SELECT id FROM expired))::int AS events,
              (SELECT count(*) FROM call_events ev WHERE ev.call_session_id IS NULL AND ev.received_at < $1)::int AS "strayEvents",
              (SELECT count(*) FROM phone_numbers p
               WHERE p.last_seen_at < $1
                 AND NOT EXISTS (SELECT 1 FROM call_sessions s WHERE s.from_number_id = p.id AND s.started_at >= $1)
                 AND NOT EXISTS (SELECT 1 FROM call_sessions s WHERE s.to_number_id = p.id AND s.started_at >= $1))::int AS "phoneNumbers"`,
      [cutoff, onlyUnredacted],
    );
    return row;
  }

  /** Deletes up to `batchSize` calls that started before `cutoff`, with their exchanges and events. */
  async deleteBatch(cutoff: Date, batchSize: number): Promise<RetentionCounts> {
    const [row] = await this.dataSource.query<RetentionCounts[]>(
      `WITH batch AS (
         SELECT id FROM call_sessions WHERE started_at < $1 ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), exchanges AS (
         DELETE FROM stream_exchanges WHERE call_session_id IN (SELECT id FROM batch) RETURNING 1
       ), events AS (
         DELETE FROM call_events WHERE call_session_id IN (SELECT id FROM batch) RETURNING 1
       ), calls AS (
         DELETE FROM call_sessions WHERE id IN (SELECT id FROM batch) RETURNING 1
       )
       SELECT (SELECT count(*) FROM calls)::int AS calls,
              (SELECT count(*) FROM exchanges)::int AS exchanges,
              (SELECT count(*) FROM events)::int AS events`,
      [cutoff, batchSize],
    );
    return row;
  }

  /**
   * Keeps up to `batchSize` calls that started before `cutoff` but without what identifies
   * the caller: numbers, metadata, call sid, every text. Counts, statuses, timings and
   * tokens stay, and each transcript keeps its turns (roles) with the content replaced.
   */
  async redactBatch(cutoff: Date, batchSize: number): Promise<RetentionCounts> {
    return this.dataSource.transaction(async (manager) => {
      const batch: Array<{ id: string }> = await manager.query(
        `SELECT id FROM call_sessions WHERE started_at < $1 AND redacted_at IS NULL
         ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [cutoff, batchSize],
      );
      if (batch.length === 0) return { calls: 0, exchanges: 0, events: 0 };
      const ids = batch.map((b) => b.id);
      const exchanges = await manager.query<unknown>(
        `UPDATE stream_exchanges SET
           transcript = CASE WHEN jsonb_typeof(transcript) = 'array' THEN coalesce((
             SELECT jsonb_agg(jsonb_build_object('role', t.entry ->> 'role', 'content', $2::text) ORDER BY t.n)
             FROM jsonb_array_elements(transcript) WITH ORDINALITY AS t(entry, n)), '[]'::jsonb) ELSE '[]'::jsonb END,
           response_text = CASE WHEN response_text = '' THEN '' ELSE $2 END,
           -- Tool arguments and results can hold anything the caller said: keep only what was called, how it went and when.
           tool_calls = coalesce((
             SELECT jsonb_agg(jsonb_build_object('id', c ->> 'id', 'name', c ->> 'name', 'status', c ->> 'status',
                                                 'round', c -> 'round', 'started_at', c -> 'started_at', 'duration_ms', c -> 'duration_ms',
                                                 'arguments', $2::text) ORDER BY n)
             FROM jsonb_array_elements(tool_calls) WITH ORDINALITY AS t(c, n)), '[]'::jsonb)
         WHERE call_session_id = ANY($1::uuid[])`,
        [ids, REDACTED],
      );
      const events = await manager.query<unknown>(
        `UPDATE call_events SET payload = '{"redacted": true}'::jsonb WHERE call_session_id = ANY($1::uuid[])`,
        [ids],
      );
      // The analysis retells the conversation: its summary and fields go too; outcome and sentiment stay.
      await manager.query(
        `UPDATE call_analyses SET summary = CASE WHEN summary IS NULL THEN NULL ELSE $2 END, custom_fields = NULL
         WHERE call_session_id = ANY($1::uuid[])`,
        [ids, REDACTED],
      );
      await manager.query(
        `UPDATE call_sessions SET metadata = NULL, call_sid = NULL, from_number_id = NULL, to_number_id = NULL, redacted_at = now()
         WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return { calls: ids.length, exchanges: affectedRows(exchanges), events: affectedRows(events) };
    });
  }

  /** Frames that came before start_call belong to no call; they go once old, in either mode. */
  async deleteStrayEvents(cutoff: Date, batchSize: number): Promise<number> {
    return affectedRows(
      await this.dataSource.query(
        `DELETE FROM call_events WHERE id IN (
           SELECT id FROM call_events WHERE call_session_id IS NULL AND received_at < $1 LIMIT $2)`,
        [cutoff, batchSize],
      ),
    );
  }

  /**
   * Numbers no remaining call refers to. `last_seen_at < $1` is on the outer DELETE so that a
   * number the audit writer is just now upserting (row locked, then updated) is rechecked and kept.
   */
  async deleteUnusedPhoneNumbers(cutoff: Date, batchSize: number): Promise<number> {
    return affectedRows(
      await this.dataSource.query(
        `DELETE FROM phone_numbers p
         WHERE p.last_seen_at < $1
           AND p.id IN (
             SELECT u.id FROM phone_numbers u
             WHERE u.last_seen_at < $1
               AND NOT EXISTS (SELECT 1 FROM call_sessions s WHERE s.from_number_id = u.id)
               AND NOT EXISTS (SELECT 1 FROM call_sessions s WHERE s.to_number_id = u.id)
             LIMIT $2)`,
        [cutoff, batchSize],
      ),
    );
  }
}

/** TypeORM answers an UPDATE or DELETE with `[rows, affected]`. */
function affectedRows(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}
