import { PinoLogger } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';
import type { Logger as PinoInstance } from 'pino';

/**
 * The logging context of one call connection. Everything a socket event triggers (its
 * frames, the reply tasks they start, its close) runs inside it through AsyncLocalStorage,
 * so every line the call writes, with Nest's ordinary `Logger`, carries `session_id`
 * from start_call on.
 */
export class CallLogContext extends Store {
  sessionId?: string;

  constructor(logger: PinoInstance) {
    super(logger);
  }

  /** Undefined when the pino logger is not set up (e.g. in tests using Nest's console logger). */
  static create(): CallLogContext | undefined {
    const root = PinoLogger.root as PinoInstance | undefined;
    return root ? new CallLogContext(root) : undefined;
  }

  /** The context of the code running now, if it belongs to a call. */
  static current(): CallLogContext | undefined {
    const store = storage.getStore();
    return store instanceof CallLogContext ? store : undefined;
  }

  bindSession(sessionId: string): void {
    if (this.sessionId !== undefined) return;
    this.sessionId = sessionId;
    this.logger = this.logger.child({ session_id: sessionId });
  }

  run<T>(fn: () => T): T {
    return storage.run(this, fn);
  }
}
