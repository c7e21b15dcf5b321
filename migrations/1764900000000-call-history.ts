import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The query side of the audit: helper functions, indexes for the history filters,
 * the `call_summaries` view and the retention marker. Core Postgres only (no
 * pg_trgm), so it runs on any managed Postgres too; see docs/sql.md.
 */
export class CallHistory1764900000000 implements MigrationInterface {
  name = 'CallHistory1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Only the digits count, so "+1 555 0100", "+15550100" and "15550100" are the same number.
    await queryRunner.query(`
      CREATE FUNCTION phone_digits(number text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN regexp_replace(number, '[^0-9]', '', 'g')`);

    // Each stream_request repeats the whole conversation; its last user entry is the new utterance.
    await queryRunner.query(`
      CREATE FUNCTION last_user_utterance(transcript jsonb) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN jsonb_path_query_array(transcript, '$[*] ? (@.role == "user").content') ->> -1`);
    await queryRunner.query(`
      CREATE FUNCTION first_user_utterance(transcript jsonb) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN jsonb_path_query_first(transcript, '$[*] ? (@.role == "user").content') #>> '{}'`);

    // 'simple' (no stemming, no stop words) because calls come in any language.
    await queryRunner.query(`
      CREATE FUNCTION exchange_search_vector(response_text text, transcript jsonb) RETURNS tsvector
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN to_tsvector('simple', response_text) || to_tsvector('simple', coalesce(last_user_utterance(transcript), ''))`);
    // Every word of the query, each as a prefix: "refund ord" finds "refunds for my order".
    await queryRunner.query(`
      CREATE FUNCTION call_search_query(q text) RETURNS tsquery
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN (SELECT coalesce(string_agg(quote_literal(word) || ':*', ' & '), '')::tsquery
              FROM unnest(tsvector_to_array(to_tsvector('simple', q))) AS word)`);

    await queryRunner.query(`ALTER TABLE call_sessions ADD COLUMN redacted_at timestamptz NULL`);

    await queryRunner.query(`CREATE INDEX ix_phone_numbers_digits ON phone_numbers (phone_digits(number))`);
    await queryRunner.query(
      `CREATE INDEX ix_call_sessions_unredacted ON call_sessions (started_at) WHERE redacted_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_stream_exchanges_failed ON stream_exchanges (call_session_id) WHERE status = 'failed'`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_stream_exchanges_search ON stream_exchanges USING gin (exchange_search_vector(response_text, transcript))`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_call_events_orphan_received ON call_events (received_at) WHERE call_session_id IS NULL`,
    );

    await queryRunner.query(`
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
    await queryRunner.query(
      `COMMENT ON VIEW call_summaries IS 'One row per call with the fields of GET /api/calls; see docs/sql.md'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP VIEW call_summaries`);
    await queryRunner.query(`DROP INDEX ix_call_events_orphan_received`);
    await queryRunner.query(`DROP INDEX ix_stream_exchanges_search`);
    await queryRunner.query(`DROP INDEX ix_stream_exchanges_failed`);
    await queryRunner.query(`DROP INDEX ix_call_sessions_unredacted`);
    await queryRunner.query(`DROP INDEX ix_phone_numbers_digits`);
    await queryRunner.query(`ALTER TABLE call_sessions DROP COLUMN redacted_at`);
    await queryRunner.query(`DROP FUNCTION call_search_query(text)`);
    await queryRunner.query(`DROP FUNCTION exchange_search_vector(text, jsonb)`);
    await queryRunner.query(`DROP FUNCTION first_user_utterance(jsonb)`);
    await queryRunner.query(`DROP FUNCTION last_user_utterance(jsonb)`);
    await queryRunner.query(`DROP FUNCTION phone_digits(text)`);
  }
}
