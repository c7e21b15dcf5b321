import { Pool } from 'pg';

/**
 * The run's own database, created by global-setup on the test server (never the one
 * DATABASE_URL names). Running a spec outside Jest's setup is refused rather than guessed.
 */
function runDatabaseUrl(): string {
  const url = process.env.TEST_RUN_DATABASE_URL;
  if (!url)
    throw new Error(
      'TEST_RUN_DATABASE_URL is unset: run the tests through jest (npm test), whose global setup creates the test database.',
    );
  return url;
}

export const TEST_DATABASE_URL = runDatabaseUrl();

export function testPool(url = TEST_DATABASE_URL): Pool {
  return new Pool({ connectionString: url, max: 2 });
}

export async function truncateAuditTables(pool: Pool): Promise<void> {
  const { rows } = await pool.query(`SELECT to_regclass('call_sessions') AS t`);
  if (rows[0].t) await pool.query('TRUNCATE call_events, stream_exchanges, call_sessions, phone_numbers CASCADE');
  // Jobs left by an earlier suite would run against rows that are gone; the queues themselves stay.
  const jobs = await pool.query(`SELECT to_regclass('pgboss.job') AS t`);
  if (jobs.rows[0].t) await pool.query('TRUNCATE pgboss.job, pgboss.archive');
}
