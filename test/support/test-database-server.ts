import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresServer } from '../../src/database/embedded-postgres-server';
import { describeError } from '../../src/common/describe-error';

/**
 * Where the suite's own database lives. The suite never reads DATABASE_URL (that names
 * somebody's real data): it creates a fresh database on the server TEST_DATABASE_URL
 * names, else on the local server, else on a real embedded PostgreSQL started for the run.
 */
const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabaseServer {
  /** A connection string for the server's maintenance database. */
  adminUrl: string;
  describe: string;
  stop(): Promise<void>;
}

async function reachable(url: string): Promise<Error | null> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error as Error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function startEmbedded(): Promise<TestDatabaseServer> {
  const logs: string[] = [];
  const server = new EmbeddedPostgresServer({
    dataDir: join(tmpdir(), `millis-test-pg-${process.pid}-${randomBytes(4).toString('hex')}`),
    temporary: true,
    // Suites start several service processes at once; nothing here needs to survive a crash.
    maxConnections: 300,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    onLog: (line) => logs.push(line),
  });
  try {
    const adminUrl = await server.start();
    return { adminUrl, describe: `an embedded PostgreSQL on ${new URL(adminUrl).host}`, stop: () => server.stop() };
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw new Error(`Could not start an embedded PostgreSQL for the tests: ${describeError(error)}`, { cause: error });
  }
}

export async function openTestDatabaseServer(env: NodeJS.ProcessEnv): Promise<TestDatabaseServer> {
  const configured = env.TEST_DATABASE_URL?.trim();
  if (configured) {
    const failure = await reachable(configured);
    if (failure) {
      throw new Error(
        `TEST_DATABASE_URL names a server the tests cannot reach (${failure.message}). Fix it, or unset it to use a local or embedded PostgreSQL.`,
      );
    }
    const { host } = new URL(configured);
    return {
      adminUrl: configured,
      describe: `the server at ${host} (TEST_DATABASE_URL)`,
      stop: () => Promise.resolve(),
    };
  }
  const localFailure = await reachable(LOCAL_SERVER);
  if (localFailure === null) {
    return { adminUrl: LOCAL_SERVER, describe: 'the local server at 127.0.0.1:5432', stop: () => Promise.resolve() };
  }
  return startEmbedded();
}

/** The same server, another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
