import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a call's `call.started` and `call.ended` events were handed to the job queue. Null =
 * not yet: the dispatcher claims those rows, so an event survives restarts and outages in
 * the row itself. Calls stored before this migration read as dispatched (the default, kept
 * in the catalogue, rewrites nothing): upgrading does not replay the history to webhooks.
 * New rows get null once the default is dropped.
 */
export class CallEventDispatch1765850000000 implements MigrationInterface {
  name = 'CallEventDispatch1765850000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE call_sessions
        ADD COLUMN started_dispatched_at timestamptz NULL DEFAULT now(),
        ADD COLUMN ended_dispatched_at timestamptz NULL DEFAULT now()`);
    await queryRunner.query(`
      ALTER TABLE call_sessions
        ALTER COLUMN started_dispatched_at DROP DEFAULT,
        ALTER COLUMN ended_dispatched_at DROP DEFAULT`);
    await queryRunner.query(
      `CREATE INDEX ix_call_sessions_start_undispatched ON call_sessions (started_at) WHERE started_dispatched_at IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_call_sessions_end_undispatched ON call_sessions (ended_at)
         WHERE ended_at IS NOT NULL AND ended_dispatched_at IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX ix_call_sessions_end_undispatched`);
    await queryRunner.query(`DROP INDEX ix_call_sessions_start_undispatched`);
    await queryRunner.query(
      `ALTER TABLE call_sessions DROP COLUMN started_dispatched_at, DROP COLUMN ended_dispatched_at`,
    );
  }
}
