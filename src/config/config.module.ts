import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { EnvironmentVariables, validateEnvironment } from './environment-variables';

let validated: EnvironmentVariables | undefined;

/** Loads `.env` (if any) over the environment, validates it once at boot, exposes `AppConfig`. */
@Global()
@Module({
  imports: [ConfigModule.forRoot({ cache: true, validate: (raw) => (validated = validateEnvironment(raw)) })],
  providers: [{ provide: AppConfig, useFactory: () => new AppConfig(validated!) }],
  exports: [AppConfig],
})
export class AppConfigModule {}
