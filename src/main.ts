import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { configureApp } from './configure-app';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { logFormat, ServiceLogger } from './observability/logging';
import { installProcessHandlers } from './observability/process-handlers';
import { renderStartUpBanner, startUpFacts } from './observability/start-up-banner';

async function bootstrap(): Promise<void> {
  // abortOnError off: a configuration error reaches the catch below as one readable message.
  const app = await NestFactory.create(AppModule, { bufferLogs: true, abortOnError: false });
  const config = configureApp(app);
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
  // Beside the logger (it shows the key the scrubber would hide), at LOG_LEVEL log or more.
  if (config.logLevel !== 'error' && config.logLevel !== 'warn') writeSync(1, renderStartUpBanner(startUpFacts(config, port), logFormat(config)));
}

bootstrap().catch((error: unknown) => {
  // One readable message for a configuration error, a stack for anything else.
  const message = error instanceof Error && error.message.startsWith('Invalid configuration') ? error.message : error;
  console.error(message);
  process.exit(1);
});
