import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several LLM providers with failover. Each exchange records which provider answered and
 * the model its stream named, the providers that failed (or were skipped, circuit open)
 * before it, the reasoning a reasoning model did (never spoken), the last finish_reason,
 * and what a hedged round cost. Each agent profile may list its providers in order and ask
 * for hedging. Nullable columns and constant defaults: nothing is rewritten, instant on a
 * large audit.
 */
export class LlmProviders1765700000000 implements MigrationInterface {
  name = 'LlmProviders1765700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE stream_exchanges
        ADD COLUMN provider text NULL,
        ADD COLUMN response_model text NULL,
        ADD COLUMN failed_attempts jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN reasoning_tokens int NULL,
        ADD COLUMN reasoning_ms int NULL,
        ADD COLUMN finish_reason text NULL,
        ADD COLUMN hedges jsonb NOT NULL DEFAULT '[]'`);
    await queryRunner.query(`
      ALTER TABLE agent_profiles
        ADD COLUMN providers jsonb NULL,
        ADD COLUMN hedge_after_ms int NULL,
        ADD CONSTRAINT ck_agent_profiles_providers CHECK (providers IS NULL OR jsonb_typeof(providers) = 'array'),
        ADD CONSTRAINT ck_agent_profiles_hedge_after_ms CHECK (hedge_after_ms IS NULL OR hedge_after_ms >= 0)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE agent_profiles
        DROP CONSTRAINT ck_agent_profiles_hedge_after_ms,
        DROP CONSTRAINT ck_agent_profiles_providers,
        DROP COLUMN hedge_after_ms,
        DROP COLUMN providers`);
    await queryRunner.query(`
      ALTER TABLE stream_exchanges
        DROP COLUMN hedges,
        DROP COLUMN finish_reason,
        DROP COLUMN reasoning_ms,
        DROP COLUMN reasoning_tokens,
        DROP COLUMN failed_attempts,
        DROP COLUMN response_model,
        DROP COLUMN provider`);
  }
}
