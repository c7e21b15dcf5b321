import { Field, jsonEntries, numberedEntries, ProviderEntry } from './llm-provider-entries';

/**
 * The LLM providers the service may call, read once at boot from the environment in one of
 * two forms (never both):
 *
 * - `LLM_PROVIDERS`: a JSON array of objects with snake_case keys;
 * - `LLM_PROVIDER_<n>_<FIELD>`: one variable per field, numbered from 1 (keys can then come
 *   from a secret store one by one).
 *
 * The single-provider variables (OPENAI_API_KEY, OPENAI_BASE_URL, LLM_TIMEOUT_MS,
 * LLM_IDLE_TIMEOUT_MS) still define a provider named `default`, listed first, whenever one
 * of OPENAI_API_KEY / OPENAI_BASE_URL is set or no named provider is.
 */

export type LlmProviderKind = 'openai' | 'azure';
export type MaxTokensParam = 'max_tokens' | 'max_completion_tokens';

export interface LlmProviderConfig {
  /** How agents, logs, metrics and the audit name it. */
  name: string;
  /** openai: any OpenAI-compatible endpoint; azure: Azure OpenAI through the SDK's AzureOpenAI client. */
  kind: LlmProviderKind;
  /** openai: the API's base URL (unset = api.openai.com); azure: the resource endpoint, e.g. https://x.openai.azure.com. */
  baseUrl?: string;
  apiKey?: string;
  /** Model sent to this provider; unset = the agent's model (its profile, then OPENAI_MODEL). */
  model?: string;
  /** azure: the deployment in the URL; unset = the model. */
  deployment?: string;
  /** azure: the api-version query parameter. */
  apiVersion?: string;
  /** Sent with every request (e.g. OpenRouter's HTTP-Referer, a gateway's own key). */
  headers: Record<string, string>;
  /** Time to the first output (text, tool call or reasoning) before the turn moves on to the next provider. */
  firstTokenTimeoutMs: number;
  /** Longest silence between two outputs. */
  idleTimeoutMs: number;
  /** Reasoning models (o-series) refuse max_tokens and want max_completion_tokens. */
  maxTokensParam: MaxTokensParam;
  /** Overrides the agent's temperature for this provider (o-series only accept 1). */
  temperature?: number;
  /** Merged into every request body (e.g. {"reasoning_effort":"low"}, vLLM's chat_template_kwargs). */
  extraBody?: Record<string, unknown>;
}

/** The provider the single-provider variables define. */
export const DEFAULT_PROVIDER = 'default';
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Header values worth scrubbing from logs: whatever a credential header carries. */
const CREDENTIAL_HEADER = /auth|key|token|secret|cookie|signature|password/i;
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 600_000;

export interface ProviderDefaults {
  /** OPENAI_API_KEY / OPENAI_BASE_URL: the `default` provider, when set. */
  apiKey?: string;
  baseUrl?: string;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface ProviderReading {
  providers: LlmProviderConfig[];
  /** Failover order of agents without their own list. */
  order: string[];
  /** One `VARIABLE: what is wrong` per problem, like the rest of the configuration's errors. */
  errors: string[];
}

/**
 * Reads the providers from the raw environment. Errors name the variable (or the JSON path)
 * and say what is wrong; nothing is thrown, so they join the configuration's single error.
 */
export function readLlmProviders(
  raw: Record<string, unknown>,
  defaults: ProviderDefaults,
  orderVariable?: string,
): ProviderReading {
  const errors: string[] = [];
  const entries: ProviderEntry[] = [];

  const json = raw.LLM_PROVIDERS;
  const numbered = numberedEntries(raw, errors);
  if (typeof json === 'string' && json.trim() !== '') {
    if (numbered.length > 0)
      errors.push('LLM_PROVIDERS: set either LLM_PROVIDERS or LLM_PROVIDER_<n>_* variables, not both');
    entries.push(...jsonEntries(json, errors));
  } else {
    entries.push(...numbered);
  }

  const providers: LlmProviderConfig[] = [];
  for (const entry of entries) {
    const provider = parseEntry(entry.values, entry.where, defaults, errors);
    if (provider) providers.push(provider);
  }

  const legacy = Boolean(defaults.apiKey || defaults.baseUrl);
  if (legacy || entries.length === 0) {
    if (providers.some((p) => p.name === DEFAULT_PROVIDER)) {
      errors.push(
        `LLM_PROVIDERS: the name "${DEFAULT_PROVIDER}" is taken by OPENAI_API_KEY / OPENAI_BASE_URL; give that provider another name`,
      );
    }
    providers.unshift({
      name: DEFAULT_PROVIDER,
      kind: 'openai',
      baseUrl: defaults.baseUrl,
      apiKey: defaults.apiKey,
      headers: {},
      firstTokenTimeoutMs: defaults.firstTokenTimeoutMs,
      idleTimeoutMs: defaults.idleTimeoutMs,
      maxTokensParam: 'max_tokens',
    });
  }
  const names = providers.map((p) => p.name);
  const duplicates = new Set(
    names.filter((name, i) => names.indexOf(name) !== i && !(legacy && name === DEFAULT_PROVIDER)),
  );
  for (const duplicate of duplicates) errors.push(`LLM_PROVIDERS: the provider name "${duplicate}" is used twice`);

  let order = names;
  if (orderVariable !== undefined && orderVariable.trim() !== '') {
    order = orderVariable
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = order.filter((name) => !names.includes(name));
    if (unknown.length)
      errors.push(
        `LLM_PROVIDER_ORDER: unknown provider(s) ${unknown.join(', ')}; configured: ${[...new Set(names)].join(', ')}`,
      );
    const repeated = order.find((name, i) => order.indexOf(name) !== i);
    if (repeated) errors.push(`LLM_PROVIDER_ORDER: "${repeated}" is listed twice`);
  }
  return { providers, order, errors };
}

/** Keys and credential-like header values of every provider: the log scrubber hides them all. */
export function providerSecrets(providers: LlmProviderConfig[]): string[] {
  const secrets: string[] = [];
  for (const provider of providers) {
    if (provider.apiKey) secrets.push(provider.apiKey);
    for (const [name, value] of Object.entries(provider.headers)) if (CREDENTIAL_HEADER.test(name)) secrets.push(value);
  }
  return secrets;
}

function parseEntry(
  values: Partial<Record<Field, unknown>>,
  where: (field: Field) => string,
  defaults: ProviderDefaults,
  errors: string[],
): LlmProviderConfig | undefined {
  const before = errors.length;
  const fail = (field: Field, message: string) => errors.push(`${where(field)}: ${message}`);
  const text = (field: Field): string | undefined => {
    const value = values[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') fail(field, 'must be a string');
    return typeof value === 'string' ? value : undefined;
  };
  const number = (field: Field, min: number, max: number, integer: boolean): number | undefined => {
    const value = values[field];
    if (value === undefined || value === null || value === '') return undefined;
    const n =
      typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      fail(field, `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
      return undefined;
    }
    return n;
  };
  const object = (field: Field): Record<string, unknown> | undefined => {
    const value = values[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      fail(field, 'must be a JSON object');
      return undefined;
    }
    return value as Record<string, unknown>;
  };

  const name = text('name');
  if (!name) fail('name', 'is required');
  else if (!NAME.test(name))
    fail('name', 'must be 1 to 40 letters, digits, ., _ or -, starting with a letter or digit');

  const kind = text('kind') ?? 'openai';
  if (kind !== 'openai' && kind !== 'azure') fail('kind', 'must be openai or azure');

  const baseUrl = text('base_url');
  if (baseUrl !== undefined && !isHttpUrl(baseUrl)) fail('base_url', 'must be an http(s) URL');
  if (kind === 'azure' && !baseUrl)
    fail('base_url', 'is required for kind azure: the resource endpoint, e.g. https://my-resource.openai.azure.com');

  const apiKey = text('api_key');
  if (kind === 'azure' && !apiKey) fail('api_key', 'is required for kind azure (sent as the api-key header)');
  const model = text('model');
  const deployment = text('deployment');
  const apiVersion = text('api_version');
  if (kind !== 'azure') {
    if (deployment) fail('deployment', 'only applies to kind azure');
    if (apiVersion) fail('api_version', 'only applies to kind azure');
  }

  const headers: Record<string, string> = {};
  for (const [header, value] of Object.entries(object('headers') ?? {})) {
    if (!HEADER_NAME.test(header)) fail('headers', `"${header}" is not a valid header name`);
    else if (typeof value !== 'string') fail('headers', `the value of "${header}" must be a string`);
    else headers[header] = value;
  }

  const maxTokensParam = text('max_tokens_param') ?? 'max_tokens';
  if (maxTokensParam !== 'max_tokens' && maxTokensParam !== 'max_completion_tokens')
    fail('max_tokens_param', 'must be max_tokens or max_completion_tokens');

  const provider: LlmProviderConfig = {
    name: name ?? '',
    kind: kind as LlmProviderKind,
    baseUrl,
    apiKey,
    model,
    deployment,
    apiVersion: kind === 'azure' ? (apiVersion ?? DEFAULT_AZURE_API_VERSION) : undefined,
    headers,
    firstTokenTimeoutMs:
      number('first_token_timeout_ms', MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, true) ?? defaults.firstTokenTimeoutMs,
    idleTimeoutMs: number('idle_timeout_ms', MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, true) ?? defaults.idleTimeoutMs,
    maxTokensParam: maxTokensParam as MaxTokensParam,
    temperature: number('temperature', 0, 2, false),
    extraBody: object('extra_body'),
  };
  return errors.length === before ? provider : undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
