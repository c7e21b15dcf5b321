import { Client } from 'pg';
import { AuditLongValues1765600000000 } from '../../../migrations/1765600000000-audit-long-values';
import { listCallsQuery, PHONE_NUMBER_IDS_QUERY } from '../../../src/call-records/call-list.query';
import { incompressible } from '../../support/audit-test-kit';
import { closeMigrationSandbox, openMigrationSandbox, sandboxRunner } from './migration-sandbox';

interface PlanNode {
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function indexesOf(node: PlanNode): string[] {
  return [...(node['Index Name'] ? [node['Index Name']] : []), ...(node.Plans ?? []).flatMap(indexesOf)];
}

/**
 * The migration on a database holding calls, both ways, inside one transaction that is
 * rolled back at the end (Postgres DDL is transactional), so other suites see no change.
 */
describe('Migration AuditLongValues1765600000000', () => {
  let db: Client;
  const migration = new AuditLongValues1765600000000();

  beforeAll(async () => {
    db = await openMigrationSandbox();
    await db.query('TRUNCATE call_events, stream_exchanges, call_sessions, phone_numbers CASCADE');
  });
  afterAll(() => closeMigrationSandbox(db));

  const runner = () => sandboxRunner(db);

  async function failure(sql: string, params: unknown[]): Promise<{ code?: string; constraint?: string } | null> {
    await db.query('SAVEPOINT attempt');
    try {
      await db.query(sql, params);
      return null;
    } catch (error) {
      return error as { code?: string; constraint?: string };
    } finally {
      await db.query('ROLLBACK TO SAVEPOINT attempt');
    }
  }

  async function indexesUsed(sql: string, params: unknown[]): Promise<string[]> {
    await db.query('SET LOCAL enable_seqscan = off');
    const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
    await db.query('SET LOCAL enable_seqscan = on');
    return indexesOf(rows[0]['QUERY PLAN'][0].Plan);
  }

  const insertSession = `INSERT INTO call_sessions (session_id, agent_id, status, started_at) VALUES ($1, $2, 'ended', now()) RETURNING id`;
  const insertNumber = `INSERT INTO phone_numbers (number) VALUES ($1)`;

  it('stores values of any length, keeps session_id and number unique, and lets every lookup use an index', async () => {
    const longId = incompressible(7_000);
    const longAgent = incompressible(7_000);
    const longNumber = incompressible(7_000);
    const [{ id }] = (await db.query(insertSession, [longId, longAgent])).rows;
    await db.query(insertNumber, [longNumber]);
    await db.query(
      `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, status, requested_at)
       VALUES (gen_random_uuid(), $1, 1, 'reply', $2, 'completed', now())`,
      [
        id,
        JSON.stringify([{ role: 'user', content: Array.from({ length: 40_000 }, () => incompressible(24)).join(' ') }]),
      ],
    );

    expect(await failure(insertSession, [longId, 'other'])).toMatchObject({
      code: '23505',
      constraint: 'uq_call_sessions_session_id',
    });
    expect(await failure(insertNumber, [longNumber])).toMatchObject({
      code: '23505',
      constraint: 'uq_phone_numbers_number',
    });
    // The audit's upsert names the unique index by its expression.
    await db.query(
      `${insertSession.replace(' RETURNING id', '')} ON CONFLICT ((text_sha256(session_id))) DO UPDATE SET agent_id = 'updated'`,
      [longId, 'x'],
    );
    const { rows } = await db.query(`SELECT agent_id FROM call_sessions WHERE session_id = $1`, [longId]);
    expect(rows).toEqual([{ agent_id: 'updated' }]);

    expect(await indexesUsed(`SELECT id FROM call_sessions WHERE session_id = $1`, [longId])).toContain(
      'ix_call_sessions_session_id',
    );
    expect(await indexesUsed(`SELECT id FROM phone_numbers WHERE number = $1`, [longNumber])).toContain(
      'ix_phone_numbers_number',
    );
    expect(await indexesUsed(PHONE_NUMBER_IDS_QUERY, ['+1 555 0100'])).toContain('ix_phone_numbers_digits');
    const byAgent = listCallsQuery({ agentId: 'updated' }, undefined, 50);
    expect(await indexesUsed(byAgent.sql, byAgent.params)).toContain('ix_call_sessions_agent_started');
    const byWords = listCallsQuery({ q: 'refund' }, undefined, 50);
    expect(await indexesUsed(byWords.sql, byWords.params)).toContain('ix_stream_exchanges_search');
  });

  it('goes down to the old indexes (which refuse a long value) and up again', async () => {
    await db.query('TRUNCATE call_events, stream_exchanges, call_sessions, phone_numbers CASCADE');
    await migration.down(runner());

    expect(await failure(insertSession, [incompressible(7_000), 'agent'])).toMatchObject({ code: '54000' });
    await db.query(insertSession, ['short', 'agent']);
    expect(await failure(insertSession, ['short', 'agent'])).toMatchObject({
      code: '23505',
      constraint: 'uq_call_sessions_session_id',
    });

    await migration.up(runner());

    await db.query(insertSession, [incompressible(7_000), incompressible(7_000)]);
    expect(await failure(insertSession, ['short', 'agent'])).toMatchObject({
      code: '23505',
      constraint: 'uq_call_sessions_session_id',
    });
  });
});
