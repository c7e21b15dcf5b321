import { isPostgresStorable } from '../common/postgres-text';
import { describeError } from '../common/describe-error';

/**
 * JSON that Postgres accepts as jsonb/text: it rejects NUL and lone UTF-16
 * surrogates, which a caller's frame may well contain. Replacing them with U+FFFD
 * keeps the row instead of failing the whole batch.
 */
export function toPostgresSafeString(value: string): string {
  if (isPostgresStorable(value)) return value;
  return value.toWellFormed().replaceAll('\u0000', '\ufffd');
}

export function toPostgresJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string') return toPostgresSafeString(v);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return withStorableKeys(v as Record<string, unknown>);
    return v;
  });
}

/** Keys come from callers too (start_call metadata); the replacer above only sees values. */
function withStorableKeys(object: Record<string, unknown>): Record<string, unknown> {
  if (Object.keys(object).every(isPostgresStorable)) return object;
  return Object.fromEntries(Object.entries(object).map(([key, v]) => [toPostgresSafeString(key), v]));
}

/** A row the writer cannot turn into a statement parameter (e.g. JSON.stringify refuses it). */
export class UnserializableRowError extends Error {
  readonly code = 'unserializable';
}

/** Rows as one jsonb parameter; a row JSON.stringify refuses (too deep, circular) is refused like a row Postgres refuses. */
export function asJsonbParameter(rows: unknown[]): string {
  try {
    return toPostgresJson(rows);
  } catch (error) {
    throw new UnserializableRowError(describeError(error));
  }
}
