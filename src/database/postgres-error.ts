/** An error Postgres itself sent: its SQLSTATE and message. */
export interface PostgresError {
  code: string;
  message: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The error Postgres sent, as thrown by pg or wrapped by TypeORM (QueryFailedError.driverError).
 * Recognised by shape rather than class: a Node system error has a `code` too ("EPIPE"),
 * but no `severity`.
 */
export function postgresErrorOf(error: unknown): PostgresError | null {
  for (const candidate of [error, (error as { driverError?: unknown } | null)?.driverError]) {
    const { code, severity, message } = (candidate ?? {}) as { code?: unknown; severity?: unknown; message?: unknown };
    if (typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string') {
      return { code, message: typeof message === 'string' ? message : String(candidate) };
    }
  }
  return null;
}
