import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Values of any length are stored whole. A btree index entry must fit in a third of a
 * page (about 2.7 KB) and a tsvector in 1 MB; a caller's session_id, agent_id or number
 * (or a huge utterance) past those limits used to make Postgres refuse the row. Now:
 * - session_id and phone_numbers.number stay unique through a unique index on their
 *   SHA-256; lookups by value use a hash index, which takes values of any length;
 * - the agent_id index keys on the first 200 characters (the history query repeats the
 *   prefix so it can use it);
 * - full-text search indexes the first 20,000 characters of the reply and of the caller's
 *   last utterance. The index and the `q` filter both call exchange_search_vector(), so
 *   they keep matching; the index is rebuilt with the new definition.
 *
 * `down` restores the old indexes, so it fails while rows exist that they cannot hold.
 */
export class AuditLongValues1765600000000 implements MigrationInterface {
  name = 'AuditLongValues1765600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // convert_to() is only STABLE (conversions are catalog objects), but a database's encoding never changes.
    await queryRunner.query(`
      CREATE FUNCTION text_sha256(value text) RETURNS bytea
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      RETURN sha256(convert_to(value, 'UTF8'))`);

    await queryRunner.query(`ALTER TABLE phone_numbers DROP CONSTRAINT uq_phone_numbers_number`);
    await queryRunner.query(`CREATE UNIQUE INDEX uq_phone_numbers_number ON phone_numbers (text_sha256(number))`);
    await queryRunner.query(`CREATE INDEX ix_phone_numbers_number ON phone_numbers USING hash (number)`);
    await queryRunner.query(`DROP INDEX ix_phone_numbers_digits`);
    await queryRunner.query(`CREATE INDEX ix_phone_numbers_digits ON phone_numbers USING hash (phone_digits(number))`);

    await queryRunner.query(`ALTER TABLE call_sessions DROP CONSTRAINT uq_call_sessions_session_id`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX uq_call_sessions_session_id ON call_sessions (text_sha256(session_id))`,
    );
    await queryRunner.query(`CREATE INDEX ix_call_sessions_session_id ON call_sessions USING hash (session_id)`);
    await queryRunner.query(`DROP INDEX ix_call_sessions_agent_started`);
    await queryRunner.query(
      `CREATE INDEX ix_call_sessions_agent_started ON call_sessions (left(agent_id, 200), started_at DESC)`,
    );

    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION exchange_search_vector(response_text text, transcript jsonb) RETURNS tsvector
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN to_tsvector('simple', left(response_text, 20000))
          || to_tsvector('simple', left(coalesce(last_user_utterance(transcript), ''), 20000))`);
    await queryRunner.query(`REINDEX INDEX ix_stream_exchanges_search`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION exchange_search_vector(response_text text, transcript jsonb) RETURNS tsvector
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      RETURN to_tsvector('simple', response_text) || to_tsvector('simple', coalesce(last_user_utterance(transcript), ''))`);
    await queryRunner.query(`REINDEX INDEX ix_stream_exchanges_search`);

    await queryRunner.query(`DROP INDEX ix_call_sessions_agent_started`);
    await queryRunner.query(`CREATE INDEX ix_call_sessions_agent_started ON call_sessions (agent_id, started_at DESC)`);
    await queryRunner.query(`DROP INDEX ix_call_sessions_session_id`);
    await queryRunner.query(`DROP INDEX uq_call_sessions_session_id`);
    await queryRunner.query(`ALTER TABLE call_sessions ADD CONSTRAINT uq_call_sessions_session_id UNIQUE (session_id)`);

    await queryRunner.query(`DROP INDEX ix_phone_numbers_digits`);
    await queryRunner.query(`CREATE INDEX ix_phone_numbers_digits ON phone_numbers (phone_digits(number))`);
    await queryRunner.query(`DROP INDEX ix_phone_numbers_number`);
    await queryRunner.query(`DROP INDEX uq_phone_numbers_number`);
    await queryRunner.query(`ALTER TABLE phone_numbers ADD CONSTRAINT uq_phone_numbers_number UNIQUE (number)`);

    await queryRunner.query(`DROP FUNCTION text_sha256(text)`);
  }
}
