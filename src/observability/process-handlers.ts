import type { LoggerService } from '@nestjs/common';
import { describeError } from '../common/describe-error';

/**
 * A stray rejected promise must not hang up every call on this instance: it is logged
 * and the process goes on. An uncaught exception leaves state unknown: logged, exit 1.
 */
export function installProcessHandlers(logger: LoggerService): void {
  process.on('unhandledRejection', (reason) => {
    logger.error(`Unhandled promise rejection: ${describeError(reason, { stack: true })}`, 'Process');
  });
  process.on('uncaughtException', (error) => {
    logger.error(`Uncaught exception, exiting: ${error.stack ?? error.message}`, 'Process');
    process.exit(1);
  });
}

/**
 * The first SIGTERM, SIGINT or SIGHUP (a closed terminal) starts `drain`. A repeated one (a
 * terminal's Ctrl-C reaches npm, the CLI and this process alike) must not cut the drain short:
 * it is logged and ignored. SIGKILL still stops the process at once.
 * `work`: what the drain does, for the log ("draining calls and flushing the audit").
 */
export function drainOnSignals(
  logger: Pick<LoggerService, 'log' | 'warn'>,
  work: { starting: string; going: string },
  drain: () => void,
): void {
  let draining = false;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (draining) {
        logger.warn(`${signal} received again: ${work.going}`);
        return;
      }
      draining = true;
      logger.log(`${signal} received: ${work.starting}`);
      drain();
    });
  }
}
