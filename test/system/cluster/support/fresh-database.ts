import { Pool } from 'pg';
import { TEST_DATABASE_URL } from '../../../support/test-database';

export interface FreshDatabase {
  /** DATABASE_URL for the service. */
  url: string;
  /** A pool on it for the test's own queries. */
  db: Pool;
  drop(): Promise<void>;
}

/** An empty database of its own on the test server (no schema yet), dropped at the end. */
export async function freshDatabase(name: string): Promise<FreshDatabase> {
  const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = new Pool({ connectionString: url.toString(), max: 2 });
  // The drop below uses WITH (FORCE): an idle connection being terminated then is expected.
  db.on('error', (error: Error & { code?: string }) => {
    if (error.code !== '57P01') throw error;
  });
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
