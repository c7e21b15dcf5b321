import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './data-source-options';

/** Any constant works; it only has to be the same for every instance of this service. */
const MIGRATION_LOCK_KEY = 727_001;

/**
 * Runs pending migrations under a Postgres advisory lock, so instances that start
 * together do not race to create the same tables.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const logger = new Logger('Migrations');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    // Every run says so: with WORKERS, the one line of the primary shows the workers did not run them.
    if (applied.length > 0) logger.log(`Applied ${applied.map((m) => m.name).join(', ')}`);
    else logger.log('Schema up to date: no migration to apply');
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

/** The migrations on a connection of their own, closed after (a cluster's primary, before it forks its workers). */
export async function migrateDatabase(url: string): Promise<void> {
  // Two connections: one holds the lock while the migrations run on the other.
  const dataSource = await new DataSource(buildDataSourceOptions(url, 2)).initialize();
  try {
    await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
