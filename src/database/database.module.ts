import { Module } from '@nestjs/common';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ProcessRole } from '../config/process-role';
import { connectionsPerProcess } from './connection-budget';
import { AUDIT_CONNECTION, buildAuditDataSourceOptions, buildDataSourceOptions } from './data-source-options';
import { EmbeddedPostgres } from './embedded-postgres';
import { runMigrationsLocked } from './migration-runner';

@Module({
  providers: [EmbeddedPostgres],
  exports: [EmbeddedPostgres],
})
class EmbeddedPostgresModule {}

/**
 * Postgres from DATABASE_URL, or the embedded one; migrations run before anything else uses it
 * (with WORKERS, the primary runs them, the embedded server too, and hands workers DATABASE_URL).
 * The audit writer gets a second, small pool on the same database (built after the main
 * one, so after the migrations).
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedPostgresModule],
      inject: [AppConfig, EmbeddedPostgres, ProcessRole],
      useFactory: async (config: AppConfig, embedded: EmbeddedPostgres, role: ProcessRole) => {
        const { url, embeddedDir, poolSize } = config.database;
        const options = buildDataSourceOptions(
          url ?? (await embedded.start(embeddedDir, connectionsPerProcess(config))),
          poolSize,
        );
        // A cluster's workers find the schema migrated: their primary ran the migrations before forking them.
        return { ...options, migrationsRun: role.workerSlot === null };
      },
      dataSourceFactory: async (options) => {
        // Run by runMigrationsLocked, not by TypeORM's initialize(), which would not take the lock.
        const dataSource = await new DataSource({ ...options!, migrationsRun: false }).initialize();
        if (options!.migrationsRun) await runMigrationsLocked(dataSource);
        return dataSource;
      },
    }),
    TypeOrmModule.forRootAsync({
      name: AUDIT_CONNECTION,
      inject: [AppConfig, getDataSourceToken()],
      // The name goes in the options too: the module finds its DataSource by it at shutdown.
      useFactory: (config: AppConfig, main: DataSource) => ({
        ...buildAuditDataSourceOptions((main.options as { url: string }).url, config.audit.poolSize),
        name: AUDIT_CONNECTION,
      }),
      dataSourceFactory: async (options) => new DataSource(options!).initialize(),
    }),
  ],
})
export class DatabaseModule {}
