import { getDataSourceToken } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { AUDIT_CONNECTION } from '../../../src/database/data-source-options';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { API_KEY, expectStored, ordinaryCalls } from '../../support/audit-test-kit';

const MAIN_POOL_SIZE = 3;

function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

/** Exports and slow readers can hold every connection of the main pool; the audit has its own. */
describe('Audit while readers hold every pooled connection', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { API_KEY, GREETING: 'Hi.', DB_POOL_SIZE: String(MAIN_POOL_SIZE), AUDIT_DB_POOL_SIZE: '2' },
    });
  });
  afterAll(() => t.close());

  it('stores calls made while the main pool is exhausted', async () => {
    const main = t.app.get<DataSource>(getDataSourceToken());
    const audit = t.app.get<DataSource>(getDataSourceToken(AUDIT_CONNECTION));
    expect(poolOf(audit)).not.toBe(poolOf(main));
    // A first call reads the agent's profile (main pool) and caches it, as at any steady state.
    await expectStored(t, await ordinaryCalls(t, 'warm-up', 1));

    const held: QueryRunner[] = [];
    try {
      for (let i = 0; i < MAIN_POOL_SIZE; i++) {
        const runner = main.createQueryRunner();
        await runner.connect();
        await runner.startTransaction();
        held.push(runner);
      }
      const pool = poolOf(main);
      expect({ total: pool.totalCount, idle: pool.idleCount }).toEqual({ total: MAIN_POOL_SIZE, idle: 0 });

      const sessionIds = await ordinaryCalls(t, 'pool-exhausted', 5);

      // Checked through the test's own connection: the app's readers are all taken.
      await eventually(async () => {
        const { rows } = await t.db.query(
          `SELECT count(DISTINCT s.id)::int AS calls, count(e.id)::int AS exchanges
           FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id AND e.status = 'completed'
           WHERE s.session_id = ANY($1) AND s.status = 'ended'`,
          [sessionIds],
        );
        expect(rows[0]).toEqual({ calls: sessionIds.length, exchanges: 2 * sessionIds.length });
      });
      expect({ total: pool.totalCount, idle: pool.idleCount }).toEqual({ total: MAIN_POOL_SIZE, idle: 0 });
    } finally {
      for (const runner of held) await runner.release();
    }
    expect(t.audit.getStats()).toMatchObject({ backlog: 0, failedFlushes: 0, deadLettered: 0 });
  });
});
