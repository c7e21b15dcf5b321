import { ANALYSIS_NAME } from '../agents/agent-analysis';
import type { FieldFilter } from '../call-records/call-list.query';

/** `field.<name>=value` query parameters: filters on an analysis' custom fields. */
export const FIELD_PREFIX = 'field.';
const MAX_FIELD_FILTERS = 10;
const MAX_VALUE_LENGTH = 200;

/**
 * Moves every `field.<name>` parameter of a query into one `field` object, so the query's DTO
 * can validate them together (their names are not known in advance).
 */
export function gatherFieldParameters(query: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (key.startsWith(FIELD_PREFIX)) fields[key.slice(FIELD_PREFIX.length)] = value;
    else rest[key] = value;
  }
  if (Object.keys(fields).length) rest.field = fields;
  return rest;
}

/** What is wrong with the gathered parameters, or undefined when they are fine. */
export function fieldFiltersProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'field filters must be field.<name>=value';
  const entries = Object.entries(value);
  if (entries.length > MAX_FIELD_FILTERS) return `at most ${MAX_FIELD_FILTERS} field.<name> filters`;
  for (const [name, raw] of entries) {
    if (!ANALYSIS_NAME.test(name))
      return `field.${name}: a field name is 1 to 40 lower-case letters, digits or _, starting with a letter`;
    if (typeof raw !== 'string') return `field.${name} must be given once`;
    if (raw.length === 0 || raw.length > MAX_VALUE_LENGTH)
      return `field.${name} must be 1 to ${MAX_VALUE_LENGTH} characters`;
  }
  return undefined;
}

/**
 * Each parameter as the values it may match, typed: `true`/`false` match a boolean (or that
 * text), a number matches a number (or that text), anything else matches that text.
 */
export function toFieldFilters(fields: Record<string, string> | undefined): FieldFilter[] {
  return Object.entries(fields ?? {}).map(([name, raw]) => {
    const typed: unknown =
      raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    return { name, values: typed === raw ? [raw] : [typed, raw] };
  });
}
