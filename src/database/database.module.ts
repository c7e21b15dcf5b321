import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { buildDataSourceOptions } from './data-source-options';
import { EmbeddedPostgres } from './embedded-postgres';
import { runMigrationsLocked } from './migration-runner';

@Module({
  providers: [EmbeddedPostgres],
  exports: [EmbeddedPostgres],
})
class EmbeddedPostgresModule {}

/** Postgres from DATABASE_URL, or the embedded one; migrations run before anything else uses it. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [EmbeddedPostgresModule],
      inject: [AppConfig, EmbeddedPostgres],
      useFactory: async (config: AppConfig, embedded: EmbeddedPostgres) => {
        const { url, embeddedDir, poolSize } = config.database;
        return buildDataSourceOptions(url ?? (await embedded.start(embeddedDir, poolSize + 2)), poolSize);
      },
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        await runMigrationsLocked(dataSource);
        return dataSource;
      },
    }),
  ],
})
export class DatabaseModule {}
