import { DynamicModule, Logger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { configureApp } from './configure-app';
import { logFormat, ServiceLogger } from './observability/logging';
import { installProcessHandlers } from './observability/process-handlers';

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
export async function startService(root: Type | DynamicModule = AppModule, options: { worker?: boolean } = {}): Promise<RunningService> {
  // abortOnError off: a configuration error reaches main's catch as one readable message.
  const app = await NestFactory.create(root, { bufferLogs: true, abortOnError: false });
  const config = configureApp(app, { configWarnings: !options.worker });
  // Pino (level, format and redaction from the config); Nest's Logger writes through it.
  app.useLogger(new ServiceLogger(app.get(PinoNestLogger)));
  installProcessHandlers(app.get(PinoNestLogger));
  const logger = new Logger('Bootstrap');
  if (config.logging.format === 'pretty' && logFormat(config) === 'json') {
    logger.warn('LOG_FORMAT=pretty but pino-pretty is not installed (a production install): logging JSON lines.');
  }

  // On SIGTERM/SIGINT/SIGHUP (a closed terminal): refuse new calls, let replies finish, flush the
  // audit, exit 0. A second signal (a terminal's Ctrl-C reaches npm, the CLI and this process
  // alike) must not cut the flush short: it is logged and ignored; SIGKILL still stops it at once.
  let shuttingDown = false;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        logger.warn(`${signal} received again: still draining calls and flushing the audit`);
        return;
      }
      shuttingDown = true;
      logger.log(`${signal} received: draining calls and flushing the audit`);
      app
        .close()
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          logger.error(`Shutdown failed: ${(error as Error)?.stack ?? error}`);
          process.exit(1);
        });
    });
  }

  await app.listen(config.http.port, config.http.host);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { config, port };
}
