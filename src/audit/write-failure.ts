import { UnserializableRowError } from '../call-records/postgres-json';
import { postgresErrorOf } from '../database/postgres-error';

/**
 * Why a write failed, told apart by SQLSTATE (never by the English message):
 * - an outage: the database cannot take any write right now (no connection, shut down,
 *   out of resources, a lock or serialization conflict). The rows are kept and retried.
 * - a refusal: Postgres answered that these rows cannot be stored (a limit, a type, a
 *   constraint...). Retrying cannot help: the writer finds the refused rows, writes the
 *   others and dead-letters only those.
 * A failure with no SQLSTATE (refused or reset connection, pool or query timeout) is an
 * outage, except a row the writer itself cannot serialize.
 */
export interface WriteFailure {
  kind: 'outage' | 'refused';
  /** SQLSTATE, or the writer's own code for a row it could not send. */
  code: string | null;
  message: string;
}

/** 08 connection, 28 authorization, 3D database missing, 40 rollback (deadlock, serialization), 53 resources, 55 lock not available, 57 shutdown or cancel, 58 server I/O. */
const OUTAGE_CLASSES = new Set(['08', '28', '3D', '40', '53', '55', '57', '58']);
/** read_only_sql_transaction: connected to a standby during a failover. */
const OUTAGE_CODES = new Set(['25006']);

export function describeWriteFailure(error: unknown): WriteFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UnserializableRowError) return { kind: 'refused', code: error.code, message };
  const database = postgresErrorOf(error);
  if (!database) return { kind: 'outage', code: null, message };
  const code = database.code;
  const outage = OUTAGE_CLASSES.has(code.slice(0, 2)) || OUTAGE_CODES.has(code);
  return { kind: outage ? 'outage' : 'refused', code, message: database.message };
}
