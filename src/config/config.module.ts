import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';

/**
 * Loads `.env` (if any) under the environment, then validates once when the app is
 * built, so a bad value stops start-up with one readable error (not at import time).
 * Tests override AppConfig with `AppConfig.from(...)`, which never touches API_KEY_FILE.
 */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ cache: true })],
  providers: [{ provide: AppConfig, useFactory: () => AppConfig.forService(process.env) }],
  exports: [AppConfig],
})
export class AppConfigModule {}
