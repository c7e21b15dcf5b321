import { Pool } from 'pg';

/** CI and developers point DATABASE_URL at a real Postgres; the default is the local test server. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function testPool(url = TEST_DATABASE_URL): Pool {
  return new Pool({ connectionString: url, max: 2 });
}

export async function truncateAuditTables(pool: Pool): Promise<void> {
  const { rows } = await pool.query(`SELECT to_regclass('call_sessions') AS t`);
  if (rows[0].t) await pool.query('TRUNCATE call_events, stream_exchanges, call_sessions, phone_numbers CASCADE');
}
