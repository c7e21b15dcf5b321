import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { describeError } from '../../src/common/describe-error';
import { databaseUrl, openTestDatabaseServer, TestDatabaseServer } from './test-database-server';

declare global {
  var __testDatabase: { server: TestDatabaseServer; name: string } | undefined;
}

/** Creates the run's own database; global-teardown drops it. Tests read it from TEST_RUN_DATABASE_URL. */
export default async function globalSetup(): Promise<void> {
  // Nothing below this point, child processes included, may reach the user's own database.
  delete process.env.DATABASE_URL;

  const server = await openTestDatabaseServer(process.env);
  const name = `millis_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server.adminUrl });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await server.stop();
    throw new Error(`Could not create the test database on ${server.describe}: ${describeError(error)}`, {
      cause: error,
    });
  } finally {
    await admin.end().catch(() => undefined);
  }
  globalThis.__testDatabase = { server, name };
  process.env.TEST_RUN_DATABASE_URL = databaseUrl(server.adminUrl, name);
  process.stdout.write(`\nTests use database ${name} on ${server.describe}; it is dropped at the end.\n`);
}
