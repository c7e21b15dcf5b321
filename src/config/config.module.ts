import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { ProcessRole } from './process-role';

let loaded: AppConfig | undefined;

/**
 * The running service's configuration, validated once per process: main.ts reads it before
 * Nest starts (to choose one process or a cluster), and the module below hands out the same one.
 * `.env` is already in process.env by then: ConfigModule.forRoot below loads it when this file is imported.
 */
export function serviceConfig(): AppConfig {
  return (loaded ??= AppConfig.forService(process.env));
}

/**
 * Loads `.env` (if any) under the environment, then validates once when the app is
 * built, so a bad value stops start-up with one readable error (not at import time).
 * ProcessRole (one process, or which worker) comes with it.
 * Tests override AppConfig with `AppConfig.from(...)`, which never touches API_KEY_FILE.
 */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ cache: true })],
  providers: [
    { provide: AppConfig, useFactory: serviceConfig },
    { provide: ProcessRole, inject: [AppConfig], useFactory: (config: AppConfig) => ProcessRole.of(config) },
  ],
  exports: [AppConfig, ProcessRole],
})
export class AppConfigModule {}
