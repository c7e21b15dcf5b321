import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { validateEnvironment } from './environment-variables';

/**
 * Loads `.env` (if any) under the environment, then validates once when the app is
 * built, so a bad value stops start-up with one readable error (not at import time).
 */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ cache: true })],
  providers: [{ provide: AppConfig, useFactory: () => new AppConfig(validateEnvironment(process.env)) }],
  exports: [AppConfig],
})
export class AppConfigModule {}
