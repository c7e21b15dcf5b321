/**
 * JSON that Postgres accepts as jsonb/text: it rejects NUL and lone UTF-16
 * surrogates, which a caller's frame may well contain. Replacing them with U+FFFD
 * keeps the row instead of failing the whole batch.
 */
const UNSTORABLE = /[\u0000\ud800-\udfff]/;

export function toPostgresSafeString(value: string): string {
  if (!UNSTORABLE.test(value)) return value;
  return value.toWellFormed().replace(/\u0000/g, '\ufffd');
}

export function toPostgresJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? toPostgresSafeString(v) : v));
}
