import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { TypeOrmNestLogger } from './typeorm-nest-logger';

/**
 * One definition shared by the app and the TypeORM CLI. No entities: the schema is the
 * reviewed SQL of migrations/, and every table is read and written in SQL by its owner.
 */
export function buildDataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error', 'warn', 'migration'],
    logger: new TypeOrmNestLogger(['error', 'warn', 'migration']),
    // The schema needs nothing beyond core Postgres (gen_random_uuid is built in since 13).
    installExtensions: false,
    extra: poolSettings(poolSize, 'millis-llm-service'),
  };
}

/** Name of the audit writer's own DataSource: its connections are never taken by readers. */
export const AUDIT_CONNECTION = 'audit';

/**
 * A small pool for the audit writer alone, so exports and slow readers holding every
 * connection of the main pool cannot hold up the audit. No entities, no migrations
 * (the main DataSource runs them first), and no TypeORM query logging: a refused
 * statement would otherwise log its whole parameter, caller data included; the writer
 * logs the SQLSTATE and Postgres' message itself.
 */
export function buildAuditDataSourceOptions(url: string, poolSize: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    installExtensions: false,
    extra: poolSettings(poolSize, 'millis-llm-service audit'),
  };
}

/** node-postgres pool settings shared by both pools. */
function poolSettings(max: number, applicationName: string): Record<string, unknown> {
  return {
    max,
    // Without these a dead Postgres makes pool.connect() wait forever, stalling audit retries.
    connectionTimeoutMillis: 5_000,
    query_timeout: 30_000,
    keepAlive: true,
    application_name: applicationName,
  };
}
