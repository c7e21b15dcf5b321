/**
 * Whether Postgres text and jsonb can hold `value`: they refuse NUL and lone UTF-16
 * surrogates. The one rule behind the audit's replacement of such characters and the
 * API's refusal of request bodies that carry them.
 */
export function isPostgresStorable(value: string): boolean {
  return !value.includes('\0') && value.isWellFormed();
}
