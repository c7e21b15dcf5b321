import { Logger } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Logger as PinoInstance } from 'pino';

/**
 * The logger of one call: a pino child carrying `session_id` once start_call names it, so
 * every line the call writes can be found by session without a per-call async context
 * (AsyncLocalStorage would turn on Node's promise hooks, which the token path pays for).
 * Without pino (tests on Nest's console logger), lines go to Nest's Logger.
 */
export class CallLogger {
  private pino: PinoInstance | undefined;
  private readonly nest: Logger;
  private sessionId: string | undefined;

  constructor(private readonly context: string) {
    const root = PinoLogger.root as PinoInstance | undefined;
    this.pino = root?.child({ context });
    this.nest = new Logger(context);
  }

  /** From start_call on, every line carries the session. */
  bindSession(sessionId: string): void {
    if (this.sessionId !== undefined) return;
    this.sessionId = sessionId;
    const root = PinoLogger.root as PinoInstance | undefined;
    this.pino = root?.child({ context: this.context, session_id: sessionId });
  }

  debug(message: string): void {
    if (this.pino) this.pino.debug(message);
    else this.nest.debug(message);
  }

  log(message: string): void {
    if (this.pino) this.pino.info(message);
    else this.nest.log(message);
  }

  warn(message: string): void {
    if (this.pino) this.pino.warn(message);
    else this.nest.warn(message);
  }

  error(message: string): void {
    if (this.pino) this.pino.error(message);
    else this.nest.error(message);
  }
}
