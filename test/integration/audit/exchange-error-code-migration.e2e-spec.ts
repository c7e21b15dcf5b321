import { Client } from 'pg';
import { ExchangeErrorCode1765800000000 } from '../../../migrations/1765800000000-exchange-error-code';
import { closeMigrationSandbox, openMigrationSandbox, sandboxRunner } from './migration-sandbox';

/** Down and up again on a database holding a failed reply, inside a transaction rolled back at the end. */
describe('Migration ExchangeErrorCode1765800000000', () => {
  let db: Client;
  const migration = new ExchangeErrorCode1765800000000();
  const runner = () => sandboxRunner(db);

  beforeAll(async () => {
    db = await openMigrationSandbox();
  });
  afterAll(() => closeMigrationSandbox(db));

  async function hasErrorCode(): Promise<boolean> {
    const { rows } = await db.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'stream_exchanges' AND column_name = 'error_code'`,
    );
    return rows.length === 1;
  }

  it('adds a nullable error_code, and takes it away again without touching the rows', async () => {
    const {
      rows: [session],
    } = await db.query(
      `INSERT INTO call_sessions (session_id, agent_id, status, started_at) VALUES ('mig-error-code', 'a', 'ended', now()) RETURNING id`,
    );
    await db.query(
      `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, response_text, status, error, error_code, requested_at)
       VALUES (gen_random_uuid(), $1, 1, 'reply', '[]', 'Sorry', 'failed', 'no first token', 'timeout', now()),
              (gen_random_uuid(), $1, 2, 'reply', '[]', 'hello', 'completed', NULL, DEFAULT, now())`,
      [session.id],
    );
    const exchanges = () =>
      db.query(`SELECT * FROM stream_exchanges WHERE call_session_id = $1 ORDER BY stream_id`, [session.id]);
    expect((await exchanges()).rows.map((r) => r.error_code)).toEqual(['timeout', null]);

    await migration.down(runner());
    expect(await hasErrorCode()).toBe(false);
    const { rows: kept } = await exchanges();
    expect(kept.map((r) => [r.status, r.error, r.response_text])).toEqual([
      ['failed', 'no first token', 'Sorry'],
      ['completed', null, 'hello'],
    ]);

    await migration.up(runner());
    expect(await hasErrorCode()).toBe(true);
    expect((await exchanges()).rows.map((r) => r.error_code)).toEqual([null, null]);
  });
});
