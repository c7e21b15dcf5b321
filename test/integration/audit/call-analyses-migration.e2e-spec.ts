import { Client } from 'pg';
import { CallAnalyses1765950000000 } from '../../../migrations/1765950000000-call-analyses';
import { closeMigrationSandbox, openMigrationSandbox, sandboxRunner } from './migration-sandbox';

/** Down and up again on a database holding an analysed call, inside a transaction rolled back at the end. */
describe('Migration CallAnalyses1765950000000', () => {
  let db: Client;
  const migration = new CallAnalyses1765950000000();
  const runner = () => sandboxRunner(db);

  beforeAll(async () => {
    db = await openMigrationSandbox();
  });
  afterAll(() => closeMigrationSandbox(db));

  const exists = async (sql: string) => (await db.query(sql)).rows.length === 1;
  const hasTable = () => exists(`SELECT 1 FROM information_schema.tables WHERE table_name = 'call_analyses'`);
  const hasColumn = () =>
    exists(`SELECT 1 FROM information_schema.columns WHERE table_name = 'agent_profiles' AND column_name = 'analysis'`);

  it('adds call_analyses and agent_profiles.analysis, takes them away again, and deletes an analysis with its call', async () => {
    const {
      rows: [session],
    } = await db.query(
      `INSERT INTO call_sessions (session_id, agent_id, status, started_at) VALUES ('mig-analysis', 'a', 'ended', now()) RETURNING id`,
    );
    await db.query(`INSERT INTO agent_profiles (agent_id, analysis) VALUES ('mig-agent', '{"enabled": true}')`);
    await db.query(
      `INSERT INTO call_analyses (call_session_id, request_id, status, outcome, custom_fields)
       VALUES ($1, gen_random_uuid(), 'completed', 'resolved', '{"appointment_booked": true}')`,
      [session.id],
    );
    await db.query('SAVEPOINT s');
    await expect(
      db.query(
        `INSERT INTO call_analyses (call_session_id, request_id, status) VALUES ($1, gen_random_uuid(), 'done')`,
        [session.id],
      ),
    ).rejects.toThrow(/ck_call_analyses_status|pk_call_analyses/);
    await db.query('ROLLBACK TO SAVEPOINT s');

    await migration.down(runner());
    expect(await hasTable()).toBe(false);
    expect(await hasColumn()).toBe(false);
    expect(
      (await db.query(`SELECT count(*)::int AS n FROM agent_profiles WHERE agent_id = 'mig-agent'`)).rows[0].n,
    ).toBe(1);

    await migration.up(runner());
    expect(await hasTable()).toBe(true);
    expect(await hasColumn()).toBe(true);
    await db.query(
      `INSERT INTO call_analyses (call_session_id, request_id, custom_fields) VALUES ($1, gen_random_uuid(), '{"x": 1}')`,
      [session.id],
    );
    const { rows } = await db.query(
      `SELECT status, attempts FROM call_analyses WHERE custom_fields @> '{"x": 1}' AND call_session_id = $1`,
      [session.id],
    );
    expect(rows).toEqual([{ status: 'pending', attempts: 0 }]);
    await db.query(`DELETE FROM call_sessions WHERE id = $1`, [session.id]);
    expect(
      (await db.query(`SELECT count(*)::int AS n FROM call_analyses WHERE call_session_id = $1`, [session.id])).rows[0]
        .n,
    ).toBe(0);
  });
});
