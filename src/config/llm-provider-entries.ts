import { describeError } from '../common/describe-error';

/**
 * The two forms providers are written in, read into entries of raw field values: the JSON
 * array of LLM_PROVIDERS, or the numbered LLM_PROVIDER_<n>_<FIELD> variables. Each entry
 * knows how to name its fields in an error; llm-provider-config checks the values.
 */

/** Snake_case key of the JSON form -> suffix of the numbered form. */
const FIELDS = {
  name: 'NAME',
  kind: 'KIND',
  base_url: 'BASE_URL',
  api_key: 'API_KEY',
  model: 'MODEL',
  deployment: 'DEPLOYMENT',
  api_version: 'API_VERSION',
  headers: 'HEADERS',
  first_token_timeout_ms: 'FIRST_TOKEN_TIMEOUT_MS',
  idle_timeout_ms: 'IDLE_TIMEOUT_MS',
  max_tokens_param: 'MAX_TOKENS_PARAM',
  temperature: 'TEMPERATURE',
  extra_body: 'EXTRA_BODY',
} as const;
export type Field = keyof typeof FIELDS;
const SUFFIX_TO_FIELD = new Map<string, Field>(
  Object.entries(FIELDS).map(([field, suffix]) => [suffix, field as Field]),
);
const NUMBERED = /^LLM_PROVIDER_(\d{1,3})_([A-Z_]+)$/;

/** One provider's fields as written, and where each is written (for errors). */
export interface ProviderEntry {
  where: (field: Field) => string;
  values: Partial<Record<Field, unknown>>;
}

export function jsonEntries(json: string, errors: string[]): ProviderEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    errors.push(`LLM_PROVIDERS: not valid JSON (${describeError(error)})`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    errors.push(
      'LLM_PROVIDERS: must be a JSON array of provider objects, e.g. [{"name":"groq","base_url":"https://api.groq.com/openai/v1","api_key":"...","model":"llama-3.3-70b-versatile"}]',
    );
    return [];
  }
  return parsed.flatMap((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      errors.push(`LLM_PROVIDERS[${i}]: must be an object`);
      return [];
    }
    const values: Partial<Record<Field, unknown>> = {};
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      if (!(key in FIELDS)) {
        errors.push(`LLM_PROVIDERS[${i}].${key}: unknown field; known: ${Object.keys(FIELDS).join(', ')}`);
        continue;
      }
      values[key as Field] = value;
    }
    return [{ where: (field: Field) => `LLM_PROVIDERS[${i}].${field}`, values }];
  });
}

export function numberedEntries(raw: Record<string, unknown>, errors: string[]): ProviderEntry[] {
  const byNumber = new Map<number, Partial<Record<Field, unknown>>>();
  for (const [key, value] of Object.entries(raw)) {
    const match = NUMBERED.exec(key);
    if (!match || value === undefined || value === '') continue;
    const field = SUFFIX_TO_FIELD.get(match[2]);
    if (!field) {
      errors.push(`${key}: unknown variable; the fields are ${[...SUFFIX_TO_FIELD.keys()].join(', ')}`);
      continue;
    }
    const n = Number(match[1]);
    const values = byNumber.get(n) ?? {};
    // The environment holds text; a value given already parsed (AppConfig.from in code) is taken as it is.
    const json = (field === 'headers' || field === 'extra_body') && typeof value === 'string';
    values[field] = json ? parseJsonValue(value, key, errors) : value;
    byNumber.set(n, values);
  }
  return [...byNumber.entries()]
    .sort(([a], [b]) => a - b)
    .map(([n, values]) => ({ where: (field: Field) => `LLM_PROVIDER_${n}_${FIELDS[field]}`, values }));
}

function parseJsonValue(text: string, key: string, errors: string[]): unknown {
  try {
    return JSON.parse(text);
  } catch {
    errors.push(`${key}: must be a JSON object, e.g. {"HTTP-Referer":"https://example.com"}`);
    return undefined;
  }
}
