import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { WebhookVariables } from './webhook-variables';
import { ConfigValidationError } from './config-validation-error';
import { readLlmProviders } from './llm-provider-config';

/**
 * Every environment variable the service reads, with its default.
 * `.env.example` documents each one; nothing else reads process.env.
 * Each area's variables are a class of their own, stacked by `extends` (class-validator and
 * class-transformer read a class's decorated fields with its parents'): the process
 * (ServiceVariables), the database, the call socket, the LLM, agents, the audit, the HTTP API, the jobs, post-call analysis, the webhooks.
 * A problem is reported in that order.
 */
export class EnvironmentVariables extends WebhookVariables {}

/** Validates the raw environment once, reporting every problem in one readable error (a ConfigValidationError). */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const known = Object.fromEntries(
    Object.keys(new EnvironmentVariables())
      .concat(OPTIONAL_KEYS)
      .filter((key) => !DERIVED_KEYS.has(key))
      .map((key): [string, unknown] => [key, raw[key]])
      // A blank value means "use the default", as for an unset one.
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  const env = plainToInstance(EnvironmentVariables, known, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  // A variable whose checks share one message (WORKERS) lists it once.
  const lines = errors.map((e) => `${e.property}: ${[...new Set(Object.values(e.constraints ?? {}))].join(', ')}`);
  if (errors.length === 0 && env.EXPORT_MAX_CONCURRENT >= env.DB_POOL_SIZE) {
    lines.push(
      `EXPORT_MAX_CONCURRENT: must be below DB_POOL_SIZE (${env.DB_POOL_SIZE}), so exports always leave connections for calls and the API`,
    );
  }
  if (errors.length === 0) {
    const reading = readLlmProviders(
      raw,
      {
        apiKey: env.OPENAI_API_KEY,
        baseUrl: env.OPENAI_BASE_URL,
        firstTokenTimeoutMs: env.LLM_TIMEOUT_MS,
        idleTimeoutMs: env.LLM_IDLE_TIMEOUT_MS,
      },
      env.LLM_PROVIDER_ORDER,
    );
    lines.push(...reading.errors);
    const names = reading.providers.map((p) => p.name);
    if (env.ANALYSIS_PROVIDER !== undefined && !names.includes(env.ANALYSIS_PROVIDER))
      lines.push(`ANALYSIS_PROVIDER: unknown provider "${env.ANALYSIS_PROVIDER}"; configured: ${names.join(', ')}`);
    env.llmProviders = reading.providers;
    env.llmProviderOrder = reading.order;
  }
  if (errors.length === 0) lines.push(...productionRefusals(env));
  if (lines.length > 0) throw new ConfigValidationError(lines);
  return env;
}

/**
 * Production fails closed: no silent defaults that put the audit on one local disk or
 * leave the call socket open to anyone. Each has an explicit opt-out.
 */
function productionRefusals(env: EnvironmentVariables): string[] {
  if (env.NODE_ENV !== 'production') return [];
  const refusals: string[] = [];
  if (!env.DATABASE_URL && !env.ALLOW_EMBEDDED_DATABASE) {
    refusals.push(
      "DATABASE_URL: required when NODE_ENV=production (the embedded database keeps the audit on this machine's disk only); set ALLOW_EMBEDDED_DATABASE=true to run on it anyway",
    );
  }
  if (!env.WS_AUTH_TOKEN && !env.WS_ALLOWED_IPS && !env.ALLOW_OPEN_WEBSOCKET) {
    refusals.push(
      'WS_AUTH_TOKEN: required when NODE_ENV=production unless WS_ALLOWED_IPS is set (otherwise anyone can place calls on your LLM account); set ALLOW_OPEN_WEBSOCKET=true to run without either',
    );
  }
  return refusals;
}

/** Properties validateEnvironment fills in itself: never read from the environment. */
const DERIVED_KEYS = new Set(['llmProviders', 'llmProviderOrder']);

const OPTIONAL_KEYS = [
  'DATABASE_URL',
  'WS_AUTH_TOKEN',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'GREETING',
  'API_KEY',
  'RETENTION_DAYS',
];
OPTIONAL_KEYS.push('WS_ALLOWED_IPS', 'NODE_ENV', 'METRICS_TOKEN', 'INSTANCE_NAME');
OPTIONAL_KEYS.push('AGENT_TOOLS', 'TRANSFER_DESTINATIONS');
OPTIONAL_KEYS.push('LLM_PROVIDERS', 'LLM_PROVIDER_ORDER', 'LLM_HEDGE_AFTER_MS');
OPTIONAL_KEYS.push('WORKERS', 'CLUSTER_WORKER_SLOT');
OPTIONAL_KEYS.push('ANALYSIS_MODEL', 'ANALYSIS_PROVIDER');
