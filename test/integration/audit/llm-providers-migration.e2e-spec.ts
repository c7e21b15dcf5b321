import { Client } from 'pg';
import { LlmProviders1765700000000 } from '../../../migrations/1765700000000-llm-providers';
import { closeMigrationSandbox, openMigrationSandbox, sandboxRunner } from './migration-sandbox';

const EXCHANGE_COLUMNS = [
  'failed_attempts',
  'finish_reason',
  'hedges',
  'provider',
  'reasoning_ms',
  'reasoning_tokens',
  'response_model',
];
const PROFILE_COLUMNS = ['hedge_after_ms', 'providers'];

/** Down and up again on a database holding a call, inside a transaction rolled back at the end. */
describe('Migration LlmProviders1765700000000', () => {
  let db: Client;
  const migration = new LlmProviders1765700000000();
  const runner = () => sandboxRunner(db);

  beforeAll(async () => {
    db = await openMigrationSandbox();
  });
  afterAll(() => closeMigrationSandbox(db));

  async function columns(table: string, names: string[]): Promise<string[]> {
    const { rows } = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND column_name = ANY($2) ORDER BY 1`,
      [table, names],
    );
    return rows.map((r) => r.column_name);
  }

  it('adds the columns with their defaults, and takes them away again without touching the rows', async () => {
    const {
      rows: [session],
    } = await db.query(
      `INSERT INTO call_sessions (session_id, agent_id, status, started_at) VALUES ('mig-llm', 'a', 'ended', now()) RETURNING id`,
    );
    await db.query(
      `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, response_text, status, requested_at)
       VALUES (gen_random_uuid(), $1, 1, 'reply', '[]', 'hello', 'completed', now())`,
      [session.id],
    );
    expect(await columns('stream_exchanges', EXCHANGE_COLUMNS)).toEqual(EXCHANGE_COLUMNS);
    expect(await columns('agent_profiles', PROFILE_COLUMNS)).toEqual(PROFILE_COLUMNS);
    const {
      rows: [fresh],
    } = await db.query(`SELECT provider, failed_attempts, hedges FROM stream_exchanges WHERE call_session_id = $1`, [
      session.id,
    ]);
    expect(fresh).toEqual({ provider: null, failed_attempts: [], hedges: [] });

    await migration.down(runner());
    expect(await columns('stream_exchanges', EXCHANGE_COLUMNS)).toEqual([]);
    expect(await columns('agent_profiles', PROFILE_COLUMNS)).toEqual([]);

    await migration.up(runner());
    expect(await columns('stream_exchanges', EXCHANGE_COLUMNS)).toEqual(EXCHANGE_COLUMNS);
    const { rows } = await db.query(
      `SELECT response_text, failed_attempts FROM stream_exchanges WHERE call_session_id = $1`,
      [session.id],
    );
    expect(rows).toEqual([{ response_text: 'hello', failed_attempts: [] }]);
    await expect(
      db.query(`SAVEPOINT bad; INSERT INTO agent_profiles (agent_id, hedge_after_ms) VALUES ('neg', -5)`),
    ).rejects.toMatchObject({ constraint: 'ck_agent_profiles_hedge_after_ms' });
    await db.query('ROLLBACK TO SAVEPOINT bad');
  });
});
