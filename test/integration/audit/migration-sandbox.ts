import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../../src/database/data-source-options';
import { runMigrationsLocked } from '../../../src/database/migration-runner';
import { TEST_DATABASE_URL } from '../../support/test-database';

/**
 * A connection to the run's database with every migration applied, inside a transaction
 * that `closeMigrationSandbox` rolls back (Postgres DDL is transactional), so a migration
 * can be taken down and up again without other suites seeing a change.
 */
export async function openMigrationSandbox(): Promise<Client> {
  const dataSource = await new DataSource({
    ...buildDataSourceOptions(TEST_DATABASE_URL, 2),
    logging: false,
  }).initialize();
  await runMigrationsLocked(dataSource);
  await dataSource.destroy();
  const db = new Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  await db.query('BEGIN');
  return db;
}

export async function closeMigrationSandbox(db: Client): Promise<void> {
  await db.query('ROLLBACK');
  await db.end();
}

/** The QueryRunner a migration's up/down uses, on the sandbox's connection. */
export function sandboxRunner(db: Client): never {
  return { query: (sql: string, params?: unknown[]) => db.query(sql, params).then((r) => r.rows) } as never;
}
