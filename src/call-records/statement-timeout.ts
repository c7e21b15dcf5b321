import { DataSource } from 'typeorm';
import { postgresErrorOf } from '../database/postgres-error';

/** Postgres cancelled a read: it ran past its statement_timeout, or waited past its lock_timeout. */
export class QueryTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the query took longer than ${timeoutMs} ms and was cancelled`);
    this.name = 'QueryTimeoutError';
  }
}

/** Postgres' SQLSTATEs for a statement cancelled by statement_timeout, and a lock wait by lock_timeout. */
const TIMED_OUT = ['57014', '55P03'];
const SET_STATEMENT_TIMEOUT = `SELECT set_config('statement_timeout', $1, true)`;
export const SET_LOCK_TIMEOUT = `SELECT set_config('lock_timeout', $1, true)`;

/**
 * Runs a read in its own transaction with `timeoutMs` as its statement_timeout: readers share
 * the pool with calls and the audit, and a query that runs away must give its connection back.
 */
export async function readWithTimeout<T>(
  dataSource: DataSource,
  timeoutMs: number,
  sql: string,
  params: unknown[],
): Promise<T> {
  try {
    return await dataSource.transaction(async (manager) => {
      await manager.query(SET_STATEMENT_TIMEOUT, [String(timeoutMs)]);
      return manager.query<T>(sql, params);
    });
  } catch (error) {
    throw asQueryTimeout(error, timeoutMs);
  }
}

/** A cancelled statement becomes a QueryTimeoutError; any other error is returned as it is. */
export function asQueryTimeout(error: unknown, timeoutMs: number): unknown {
  const code = postgresErrorOf(error)?.code;
  return code !== undefined && TIMED_OUT.includes(code) ? new QueryTimeoutError(timeoutMs) : error;
}
