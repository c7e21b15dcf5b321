import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Preemptive replies: an exchange answered with a reply started on the caller's final
 * partial transcript is marked `preemptive`, with the wait it saved the caller
 * (`preemption_saved_ms`, see docs/sql.md). An agent profile may turn the feature on or off
 * (`preemptive_replies`, null = PREEMPTIVE_REPLIES). Discarded preemptive replies are
 * call_events rows (`preemption_discarded`), which need no schema change. A constant default
 * and nullable columns: nothing is rewritten, instant on a large audit.
 */
export class PreemptiveReplies1765900000000 implements MigrationInterface {
  name = 'PreemptiveReplies1765900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE stream_exchanges
        ADD COLUMN preemptive boolean NOT NULL DEFAULT false,
        ADD COLUMN preemption_saved_ms int NULL,
        ADD CONSTRAINT ck_stream_exchanges_preemption_saved_ms
          CHECK (preemption_saved_ms IS NULL OR preemption_saved_ms >= 0)`);
    await queryRunner.query(`ALTER TABLE agent_profiles ADD COLUMN preemptive_replies boolean NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE agent_profiles DROP COLUMN preemptive_replies`);
    await queryRunner.query(`
      ALTER TABLE stream_exchanges
        DROP CONSTRAINT ck_stream_exchanges_preemption_saved_ms,
        DROP COLUMN preemption_saved_ms,
        DROP COLUMN preemptive`);
  }
}
