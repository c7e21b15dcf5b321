import { Client } from 'pg';
import { PreemptiveReplies1765900000000 } from '../../../migrations/1765900000000-preemptive-replies';
import { closeMigrationSandbox, openMigrationSandbox, sandboxRunner } from './migration-sandbox';

/** Down and up again on a database holding exchanges and a profile, inside a transaction rolled back at the end. */
describe('Migration PreemptiveReplies1765900000000', () => {
  let db: Client;
  const migration = new PreemptiveReplies1765900000000();
  const runner = () => sandboxRunner(db);

  beforeAll(async () => {
    db = await openMigrationSandbox();
  });
  afterAll(() => closeMigrationSandbox(db));

  async function columns(): Promise<string[]> {
    const { rows } = await db.query(
      `SELECT column_name FROM information_schema.columns
       WHERE (table_name = 'stream_exchanges' AND column_name IN ('preemptive', 'preemption_saved_ms'))
          OR (table_name = 'agent_profiles' AND column_name = 'preemptive_replies')
       ORDER BY column_name`,
    );
    return rows.map((r: { column_name: string }) => r.column_name);
  }

  it('adds the preemption columns, and takes them away again without touching the rows', async () => {
    const {
      rows: [session],
    } = await db.query(
      `INSERT INTO call_sessions (session_id, agent_id, status, started_at) VALUES ('mig-preempt', 'a', 'ended', now()) RETURNING id`,
    );
    await db.query(
      `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, response_text, status, preemptive, preemption_saved_ms, requested_at)
       VALUES (gen_random_uuid(), $1, 1, 'reply', '[]', 'held', 'completed', true, 420, now()),
              (gen_random_uuid(), $1, 2, 'reply', '[]', 'hello', 'completed', DEFAULT, DEFAULT, now())`,
      [session.id],
    );
    await db.query(`INSERT INTO agent_profiles (agent_id, preemptive_replies) VALUES ('mig-preempt', true)`);
    const exchanges = () =>
      db.query(`SELECT * FROM stream_exchanges WHERE call_session_id = $1 ORDER BY stream_id`, [session.id]);
    expect((await exchanges()).rows.map((r) => [r.preemptive, r.preemption_saved_ms])).toEqual([
      [true, 420],
      [false, null],
    ]);
    await db.query('SAVEPOINT bad');
    await expect(
      db.query(`UPDATE stream_exchanges SET preemption_saved_ms = -1 WHERE call_session_id = $1`, [session.id]),
    ).rejects.toMatchObject({ constraint: 'ck_stream_exchanges_preemption_saved_ms' });
    await db.query('ROLLBACK TO SAVEPOINT bad');

    await migration.down(runner());
    expect(await columns()).toEqual([]);
    expect((await exchanges()).rows.map((r) => [r.status, r.response_text])).toEqual([
      ['completed', 'held'],
      ['completed', 'hello'],
    ]);

    await migration.up(runner());
    expect(await columns()).toEqual(['preemption_saved_ms', 'preemptive', 'preemptive_replies']);
    expect((await exchanges()).rows.map((r) => [r.preemptive, r.preemption_saved_ms])).toEqual([
      [false, null],
      [false, null],
    ]);
  });
});
