import { Client } from 'pg';
import { Webhooks1765960000000 } from '../../../migrations/1765960000000-webhooks';
import { closeMigrationSandbox, openMigrationSandbox, sandboxRunner } from './migration-sandbox';

/** Down and up again, inside a transaction rolled back at the end. */
describe('Migration Webhooks1765960000000', () => {
  let db: Client;
  const migration = new Webhooks1765960000000();
  const runner = () => sandboxRunner(db);

  beforeAll(async () => {
    db = await openMigrationSandbox();
  });
  afterAll(() => closeMigrationSandbox(db));

  async function tables(): Promise<string[]> {
    const { rows } = await db.query<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_name LIKE 'webhook_%' ORDER BY 1`,
    );
    return rows.map((r) => r.t);
  }

  it('drops both tables and makes them again, with their rules', async () => {
    expect(await tables()).toEqual(['webhook_deliveries', 'webhook_endpoints']);
    await migration.down(runner());
    expect(await tables()).toEqual([]);
    await migration.up(runner());
    expect(await tables()).toEqual(['webhook_deliveries', 'webhook_endpoints']);

    const {
      rows: [endpoint],
    } = await db.query(
      `INSERT INTO webhook_endpoints (url, events, secret) VALUES ('https://example.com/h', '{call.ended}', 's') RETURNING id`,
    );
    const insertDelivery = (eventId: string) =>
      db.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, call_id, session_id, occurred_at)
         VALUES ($1, $2, 'call.ended', gen_random_uuid(), 's-1', now()) ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
        [endpoint.id, eventId],
      );
    const eventId = '6d1f3c2a-8e4b-5b7a-9c0d-1e2f3a4b5c6d';
    expect((await insertDelivery(eventId)).rowCount).toBe(1);
    expect((await insertDelivery(eventId)).rowCount).toBe(0);
    await db.query('SAVEPOINT bad_event');
    await expect(
      db.query(`INSERT INTO webhook_endpoints (url, events, secret) VALUES ('https://x', '{call.paused}', 's')`),
    ).rejects.toThrow('ck_webhook_endpoints_events');
    await db.query('ROLLBACK TO SAVEPOINT bad_event');
    await db.query('DELETE FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
    expect((await db.query('SELECT count(*)::int AS n FROM webhook_deliveries')).rows[0].n).toBe(0);
  });
});
