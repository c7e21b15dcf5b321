import { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit schema. Table and column names are a public contract: people query them with SQL. */
export class InitialSchema1764118800000 implements MigrationInterface {
  name = 'InitialSchema1764118800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE phone_numbers (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        number        text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_phone_numbers_number UNIQUE (number)
      )`);

    await queryRunner.query(`
      CREATE TABLE call_sessions (
        id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id     text NOT NULL,
        agent_id       text NOT NULL,
        call_sid       text NULL,
        metadata       jsonb NULL,
        from_number_id uuid NULL,
        to_number_id   uuid NULL,
        status         text NOT NULL,
        end_reason     text NULL,
        started_at     timestamptz NOT NULL,
        ended_at       timestamptz NULL,
        close_code     int NULL,
        CONSTRAINT uq_call_sessions_session_id UNIQUE (session_id),
        CONSTRAINT fk_call_sessions_from_number FOREIGN KEY (from_number_id) REFERENCES phone_numbers (id),
        CONSTRAINT fk_call_sessions_to_number FOREIGN KEY (to_number_id) REFERENCES phone_numbers (id),
        CONSTRAINT ck_call_sessions_status CHECK (status IN ('active', 'ended'))
      )`);
    await queryRunner.query(`CREATE INDEX ix_call_sessions_started_at ON call_sessions (started_at DESC, id DESC)`);
    await queryRunner.query(`CREATE INDEX ix_call_sessions_agent_started ON call_sessions (agent_id, started_at DESC)`);
    await queryRunner.query(
      `CREATE INDEX ix_call_sessions_from_number ON call_sessions (from_number_id, started_at DESC)`,
    );
    await queryRunner.query(`CREATE INDEX ix_call_sessions_to_number ON call_sessions (to_number_id, started_at DESC)`);
    await queryRunner.query(`CREATE INDEX ix_call_sessions_active ON call_sessions (status) WHERE status = 'active'`);

    await queryRunner.query(`
      CREATE TABLE stream_exchanges (
        id                uuid PRIMARY KEY,
        call_session_id   uuid NOT NULL,
        stream_id         int NOT NULL,
        kind              text NOT NULL,
        transcript        jsonb NOT NULL,
        response_text     text NOT NULL DEFAULT '',
        status            text NOT NULL,
        model             text NULL,
        error             text NULL,
        requested_at      timestamptz NOT NULL,
        first_token_at    timestamptz NULL,
        completed_at      timestamptz NULL,
        prompt_tokens     int NULL,
        completion_tokens int NULL,
        total_tokens      int NULL,
        CONSTRAINT fk_stream_exchanges_call_session FOREIGN KEY (call_session_id) REFERENCES call_sessions (id) ON DELETE CASCADE,
        CONSTRAINT ck_stream_exchanges_status CHECK (status IN ('streaming', 'completed', 'interrupted', 'superseded', 'failed')),
        CONSTRAINT ck_stream_exchanges_kind CHECK (kind IN ('greeting', 'reply'))
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_stream_exchanges_session ON stream_exchanges (call_session_id, requested_at)`,
    );
    await queryRunner.query(`CREATE INDEX ix_stream_exchanges_requested_at ON stream_exchanges (requested_at)`);

    await queryRunner.query(`
      CREATE TABLE call_events (
        id              uuid PRIMARY KEY,
        call_session_id uuid NULL,
        type            text NOT NULL,
        stream_id       int NULL,
        payload         jsonb NOT NULL,
        received_at     timestamptz NOT NULL,
        CONSTRAINT fk_call_events_call_session FOREIGN KEY (call_session_id) REFERENCES call_sessions (id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX ix_call_events_session ON call_events (call_session_id, received_at)`);
    await queryRunner.query(`CREATE INDEX ix_call_events_type_received ON call_events (type, received_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE call_events`);
    await queryRunner.query(`DROP TABLE stream_exchanges`);
    await queryRunner.query(`DROP TABLE call_sessions`);
    await queryRunner.query(`DROP TABLE phone_numbers`);
  }
}
