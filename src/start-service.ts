import { DynamicModule, INestApplication, Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { describeError } from './common/describe-error';
import { AppConfig } from './config/app-config';
import { configureApp } from './configure-app';
import { logFormat, ServiceLogger } from './observability/logging';
import { drainOnSignals, installProcessHandlers } from './observability/process-handlers';

export interface RunningService {
  config: AppConfig;
  /** The port it listens on (PORT, or the one chosen for PORT=0). */
  port: number;
}

/**
 * The service in this process: the Nest app listening on PORT, draining on SIGTERM/SIGINT/SIGHUP.
 * Run on its own (WORKERS unset) with AppModule, or as a cluster worker with `root` adding the
 * worker's link to the primary (the shared listening socket is node:cluster's).
 */
export async function startService(
  root: Type | DynamicModule = AppModule,
  options: { worker?: boolean } = {},
): Promise<RunningService> {
  // abortOnError off: a configuration error (ConfigValidationError) reaches main's catch, which prints it as one readable message.
  const app = await NestFactory.create<INestApplication<Server>>(root, { bufferLogs: true, abortOnError: false });
  const config = configureApp(app, { configWarnings: !options.worker });
  // Pino (level, format and redaction from the config); Nest's Logger writes through it.
  app.useLogger(new ServiceLogger(app.get(PinoNestLogger)));
  installProcessHandlers(app.get(PinoNestLogger));
  const logger = new Logger('Bootstrap');
  if (config.logging.format === 'pretty' && logFormat(config) === 'json') {
    logger.warn('LOG_FORMAT=pretty but pino-pretty is not installed (a production install): logging JSON lines.');
  }

  // Refuse new calls, let replies finish, flush the audit, exit 0.
  drainOnSignals(
    logger,
    { starting: 'draining calls and flushing the audit', going: 'still draining calls and flushing the audit' },
    () => {
      app
        .close()
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          logger.error(`Shutdown failed: ${describeError(error, { stack: true })}`);
          process.exit(1);
        });
    },
  );

  await app.listen(config.http.port, config.http.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { config, port };
}
