import type { LoggerService } from '@nestjs/common';

/**
 * A stray rejected promise must not hang up every call on this instance: it is logged
 * and the process goes on. An uncaught exception leaves state unknown: logged, exit 1.
 */
export function installProcessHandlers(logger: LoggerService): void {
  process.on('unhandledRejection', (reason) => {
    logger.error(`Unhandled promise rejection: ${(reason as Error)?.stack ?? String(reason)}`, 'Process');
  });
  process.on('uncaughtException', (error) => {
    logger.error(`Uncaught exception, exiting: ${error.stack ?? error.message}`, 'Process');
    process.exit(1);
  });
}
