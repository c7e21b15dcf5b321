import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * call_summaries.duration_ms from the millisecond timestamps the API shows, so that
 * duration_ms = ended_at - started_at holds for every call a client reads (timestamps
 * are stored to the microsecond; the difference used to round the other way for some).
 * Drop and create rather than CREATE OR REPLACE, which only allows appending columns.
 */
export class CallSummaryDurationMs1765500000000 implements MigrationInterface {
  name = 'CallSummaryDurationMs1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP VIEW call_summaries;
      CREATE VIEW call_summaries AS
      SELECT s.id,
             s.session_id,
             s.agent_id,
             s.call_sid,
             s.metadata,
             s.from_number_id,
             fn.number AS from_number,
             s.to_number_id,
             tn.number AS to_number,
             s.status,
             s.end_reason,
             s.started_at,
             s.ended_at,
             s.close_code,
             (extract(epoch FROM date_trunc('milliseconds', s.ended_at) - date_trunc('milliseconds', s.started_at)) * 1000)::bigint AS duration_ms,
             x.turn_count,
             x.failed_exchanges,
             x.failed_exchanges > 0 AS has_failures,
             left(regexp_replace(f.utterance, '\\s+', ' ', 'g'), 200) AS summary,
             s.redacted_at
      FROM call_sessions s
      LEFT JOIN phone_numbers fn ON fn.id = s.from_number_id
      LEFT JOIN phone_numbers tn ON tn.id = s.to_number_id
      CROSS JOIN LATERAL (
        SELECT (count(*) FILTER (WHERE e.kind = 'reply'))::int AS turn_count,
               (count(*) FILTER (WHERE e.status = 'failed'))::int AS failed_exchanges
        FROM stream_exchanges e
        WHERE e.call_session_id = s.id
      ) x
      LEFT JOIN LATERAL (
        SELECT first_user_utterance(e.transcript) AS utterance
        FROM stream_exchanges e
        WHERE e.call_session_id = s.id AND e.kind = 'reply'
        ORDER BY e.requested_at, e.stream_id
        LIMIT 1
      ) f ON true`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP VIEW call_summaries;
      CREATE VIEW call_summaries AS
      SELECT s.id,
             s.session_id,
             s.agent_id,
             s.call_sid,
             s.metadata,
             s.from_number_id,
             fn.number AS from_number,
             s.to_number_id,
             tn.number AS to_number,
             s.status,
             s.end_reason,
             s.started_at,
             s.ended_at,
             s.close_code,
             (extract(epoch FROM s.ended_at - s.started_at) * 1000)::bigint AS duration_ms,
             x.turn_count,
             x.failed_exchanges,
             x.failed_exchanges > 0 AS has_failures,
             left(regexp_replace(f.utterance, '\\s+', ' ', 'g'), 200) AS summary,
             s.redacted_at
      FROM call_sessions s
      LEFT JOIN phone_numbers fn ON fn.id = s.from_number_id
      LEFT JOIN phone_numbers tn ON tn.id = s.to_number_id
      CROSS JOIN LATERAL (
        SELECT (count(*) FILTER (WHERE e.kind = 'reply'))::int AS turn_count,
               (count(*) FILTER (WHERE e.status = 'failed'))::int AS failed_exchanges
        FROM stream_exchanges e
        WHERE e.call_session_id = s.id
      ) x
      LEFT JOIN LATERAL (
        SELECT first_user_utterance(e.transcript) AS utterance
        FROM stream_exchanges e
        WHERE e.call_session_id = s.id AND e.kind = 'reply'
        ORDER BY e.requested_at, e.stream_id
        LIMIT 1
      ) f ON true`);
  }
}
