import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-agent configuration (agent_profiles, managed through /api/agents) and the audit of
 * tool calls (stream_exchanges.tool_calls). A NULL profile column means "the environment
 * default"; tools and transfer_destinations are the profile's own lists.
 */
export class AgentProfilesAndToolCalls1765300000000 implements MigrationInterface {
  name = 'AgentProfilesAndToolCalls1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE agent_profiles (
        agent_id              text PRIMARY KEY,
        name                  text NULL,
        system_prompt         text NULL,
        greeting              text NULL,
        model                 text NULL,
        temperature           real NULL,
        max_tokens            int NULL,
        tools                 jsonb NOT NULL DEFAULT '[]',
        transfer_destinations jsonb NOT NULL DEFAULT '[]',
        fallback_message      text NULL,
        farewell_message      text NULL,
        created_at            timestamptz NOT NULL DEFAULT now(),
        updated_at            timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_agent_profiles_temperature CHECK (temperature IS NULL OR temperature BETWEEN 0 AND 2),
        CONSTRAINT ck_agent_profiles_max_tokens CHECK (max_tokens IS NULL OR max_tokens > 0),
        CONSTRAINT ck_agent_profiles_tools CHECK (jsonb_typeof(tools) = 'array'),
        CONSTRAINT ck_agent_profiles_transfer_destinations CHECK (jsonb_typeof(transfer_destinations) = 'array')
      )`);
    // A constant default: no table rewrite, instant even on a large audit.
    await queryRunner.query(`ALTER TABLE stream_exchanges ADD COLUMN tool_calls jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE stream_exchanges DROP COLUMN tool_calls`);
    await queryRunner.query(`DROP TABLE agent_profiles`);
  }
}
