import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Post-call analysis: one row per analysed call (summary, outcome, the caller's sentiment, the
 * agent's custom fields, what the model cost), written by the call-analysis job; and the
 * per-agent `analysis` settings on agent_profiles. `request_id` is the job the row waits for:
 * a re-run replaces it, so an older attempt still running can no longer store its answer.
 * Deleting a call deletes its analysis (ON DELETE CASCADE). The GIN index on custom_fields
 * serves the history API's typed field filters (`custom_fields @> '{"x": true}'`).
 */
export class CallAnalyses1765950000000 implements MigrationInterface {
  name = 'CallAnalyses1765950000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE call_analyses (
        call_session_id uuid NOT NULL,
        request_id uuid NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        summary text NULL,
        outcome text NULL,
        sentiment text NULL,
        custom_fields jsonb NULL,
        model text NULL,
        prompt_tokens int NULL,
        completion_tokens int NULL,
        attempts int NOT NULL DEFAULT 0,
        error text NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz NULL,
        completed_at timestamptz NULL,
        duration_ms int NULL,
        CONSTRAINT pk_call_analyses PRIMARY KEY (call_session_id),
        CONSTRAINT fk_call_analyses_call_session FOREIGN KEY (call_session_id)
          REFERENCES call_sessions (id) ON DELETE CASCADE,
        CONSTRAINT ck_call_analyses_status CHECK (status IN ('pending', 'running', 'completed', 'failed')),
        CONSTRAINT ck_call_analyses_sentiment CHECK (sentiment IS NULL OR sentiment IN ('positive', 'neutral', 'negative')),
        CONSTRAINT ck_call_analyses_custom_fields CHECK (custom_fields IS NULL OR jsonb_typeof(custom_fields) = 'object')
      )`);
    await queryRunner.query(`CREATE INDEX ix_call_analyses_outcome ON call_analyses (outcome)`);
    await queryRunner.query(`CREATE INDEX ix_call_analyses_sentiment ON call_analyses (sentiment)`);
    await queryRunner.query(`CREATE INDEX ix_call_analyses_status ON call_analyses (status, requested_at)`);
    await queryRunner.query(
      `CREATE INDEX ix_call_analyses_custom_fields ON call_analyses USING gin (custom_fields jsonb_path_ops)`,
    );
    await queryRunner.query(
      `COMMENT ON TABLE call_analyses IS 'Post-call analysis by the LLM, one row per call; see docs/sql.md'`,
    );
    await queryRunner.query(`
      ALTER TABLE agent_profiles
        ADD COLUMN analysis jsonb NULL,
        ADD CONSTRAINT ck_agent_profiles_analysis CHECK (analysis IS NULL OR jsonb_typeof(analysis) = 'object')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE agent_profiles
        DROP CONSTRAINT ck_agent_profiles_analysis,
        DROP COLUMN analysis`);
    await queryRunner.query(`DROP TABLE call_analyses`);
  }
}
