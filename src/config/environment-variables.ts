import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';
import { ConfigValidationError } from './config-validation-error';
import { LlmProviderConfig, readLlmProviders } from './llm-provider-config';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const blankAsUnset = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
const TOOL_LIST = /^\s*[\w-]{1,64}\s*(,\s*[\w-]{1,64}\s*)*$/;
const DESTINATION_LIST = /^\s*[\w-]{1,40}=[^,=\s]+\s*(,\s*[\w-]{1,40}=[^,=\s]+\s*)*$/;
const toBool = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? /^(true|1|yes)$/i.test(value)
      ? true
      : /^(false|0|no)$/i.test(value)
        ? false
        : value
    : value;
const NAME_LIST = /^\s*[\w.-]{1,40}\s*(,\s*[\w.-]{1,40}\s*)*$/;
/** WORKERS: a whole number, or `auto` (any case) for the number of cores. */
const toWorkers = ({ value }: { value: unknown }) =>
  value === undefined || value === ''
    ? undefined
    : typeof value === 'string' && /^\s*auto\s*$/i.test(value)
      ? 'auto'
      : Number(value);
const WORKERS_MESSAGE = { message: 'WORKERS must be a whole number from 1 to 1024, or auto' };
const CIDR_LIST = /^\s*[0-9a-fA-F.:]+(\/\d{1,3})?\s*(,\s*[0-9a-fA-F.:]+(\/\d{1,3})?\s*)*$/;

/**
 * Every environment variable the service reads, with its default.
 * `.env.example` documents each one; nothing else reads process.env.
 */
export class EnvironmentVariables {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL = 'log';

  @Transform(blankAsUnset)
  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;

  @IsString()
  EMBEDDED_DB_DIR = './data/postgres';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  DB_POOL_SIZE = 10;

  /** Unset = one process. A number or `auto` (the available cores) = that many node:cluster workers under a supervising primary. */
  @Transform(toWorkers)
  @IsOptional()
  @ValidateIf((env: EnvironmentVariables) => env.WORKERS !== 'auto')
  @IsInt(WORKERS_MESSAGE)
  @Min(1, WORKERS_MESSAGE)
  @Max(1024, WORKERS_MESSAGE)
  WORKERS?: number | 'auto';

  /** Set by the primary (WORKERS) on each worker it forks: the worker's place, 1 to WORKERS, kept by its replacement. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  CLUSTER_WORKER_SLOT?: number;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'WS_AUTH_TOKEN must be at least 16 characters' })
  WS_AUTH_TOKEN?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  WS_MAX_PAYLOAD = 1024 * 1024;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(CIDR_LIST, { message: 'WS_ALLOWED_IPS must be a comma-separated list of IPv4/IPv6 addresses or CIDRs' })
  WS_ALLOWED_IPS?: string;

  @Transform(toBool)
  @IsBoolean()
  TRUSTED_PROXY = false;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_CALLS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  WS_MAX_FRAMES_PER_SECOND = 50;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  WS_FRAME_BURST = 200;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  WS_PING_INTERVAL_MS = 15_000;

  /** auto = pretty on a terminal outside production, JSON lines otherwise. */
  @IsIn(['auto', 'json', 'pretty'])
  LOG_FORMAT: 'auto' | 'json' | 'pretty' = 'auto';

  @Transform(toBool)
  @IsBoolean()
  LOG_PII = false;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  NODE_ENV?: string;

  /** Production opt-out: run on the embedded database although NODE_ENV=production. */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_EMBEDDED_DATABASE = false;

  /** Production opt-out: accept WebSocket calls with neither WS_AUTH_TOKEN nor WS_ALLOWED_IPS. */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_OPEN_WEBSOCKET = false;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  /** Agent ids with their own metric series (callers choose agent ids freely); the rest are `other`. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  METRICS_MAX_AGENT_LABELS = 50;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  INSTANCE_NAME?: string;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  INSTANCE_HEARTBEAT_MS = 5_000;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  OPENAI_API_KEY?: string;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  OPENAI_BASE_URL?: string;

  @IsString()
  OPENAI_MODEL = 'gpt-4o-mini';

  @IsString()
  SYSTEM_PROMPT =
    'You are a friendly, concise voice assistant on a phone call. Answer in one to three short spoken sentences, without lists or markup.';

  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsNumber()
  @Min(0)
  @Max(2)
  LLM_TEMPERATURE = 0.7;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  LLM_MAX_TOKENS?: number = 400;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  LLM_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  LLM_IDLE_TIMEOUT_MS = 10_000;

  /** Named providers as a JSON array (see llm-provider-config.ts); or LLM_PROVIDER_<n>_* variables. */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  LLM_PROVIDERS?: string;

  /** Failover order of agents without their own list; unset = every provider, `default` first. */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(NAME_LIST, { message: 'LLM_PROVIDER_ORDER must be a comma-separated list of provider names' })
  LLM_PROVIDER_ORDER?: string;

  /** Agents without a profile start the next provider when the first has said nothing after this (ms); unset = no hedging. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(60_000)
  LLM_HEDGE_AFTER_MS?: number;

  /** Consecutive failures that open a provider's circuit (skipped until LLM_CIRCUIT_OPEN_MS has passed); 0 = no circuit breaker. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000)
  LLM_CIRCUIT_FAILURES = 5;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  LLM_CIRCUIT_OPEN_MS = 30_000;

  /** Not a variable: the providers validateEnvironment reads from LLM_PROVIDERS / LLM_PROVIDER_<n>_* and OPENAI_*. */
  llmProviders: LlmProviderConfig[] = [];

  /** Not a variable: LLM_PROVIDER_ORDER resolved against the providers. */
  llmProviderOrder: string[] = [];

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  GREETING?: string;

  @IsString()
  GREETING_PROMPT = 'The call has just connected. Greet the caller in one short sentence and offer your help.';

  @IsString()
  @MinLength(1)
  FALLBACK_MESSAGE = "Sorry, I'm having trouble answering right now. Could you say that again?";

  @IsString()
  @MinLength(1)
  FAREWELL_MESSAGE = 'Thank you for calling. Goodbye!';

  /** Tools enabled for agents without a profile, comma-separated (e.g. "end_call,check_availability"). */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(TOOL_LIST, { message: 'AGENT_TOOLS must be a comma-separated list of tool names' })
  AGENT_TOOLS?: string;

  /** Transfer destinations for agents without a profile: "name=+15550100,support=sip:help@pbx.example.com". */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(DESTINATION_LIST, {
    message: 'TRANSFER_DESTINATIONS must look like "sales=+15550100,support=sip:help@pbx.example.com"',
  })
  TRANSFER_DESTINATIONS?: string;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(120_000)
  TOOL_TIMEOUT_MS = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  TOOL_FILLER_AFTER_MS = 400;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10)
  MAX_TOOL_ROUNDS = 4;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  AGENT_PROFILE_CACHE_TTL_MS = 30_000;

  /** Agents whose settings stay cached (least recently used evicted first); callers choose agent ids freely. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  AGENT_PROFILE_CACHE_MAX = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  AUDIT_FLUSH_INTERVAL_MS = 200;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUDIT_BATCH_SIZE = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  AUDIT_MAX_BACKLOG = 500_000;

  /** Past this estimated size of the queued rows, as past AUDIT_MAX_BACKLOG rows, new calls are refused. */
  @Transform(toInt)
  @IsInt()
  @Min(64 * 1024)
  AUDIT_MAX_BACKLOG_BYTES = 256 * 1024 * 1024;

  /** Largest estimated size of one statement's rows: far below Postgres' 256 MB jsonb and 1 GB parameter limits. */
  @Transform(toInt)
  @IsInt()
  @Min(64 * 1024)
  @Max(64 * 1024 * 1024)
  AUDIT_BATCH_BYTES = 8 * 1024 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  AUDIT_STALL_MS = 30_000;

  /** The audit's own connections, never shared with readers (DB_POOL_SIZE). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(20)
  AUDIT_DB_POOL_SIZE = 2;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUDIT_SHUTDOWN_FLUSH_MS = 30_000;

  @IsString()
  AUDIT_DEAD_LETTER_FILE = './data/audit-dead-letter.ndjson';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS = 10_000;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'API_KEY must be at least 16 characters' })
  API_KEY?: string;

  /** Where the key made for a service started without API_KEY outside production is kept. */
  @IsString()
  @MinLength(1)
  API_KEY_FILE = './data/api-key';

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RETENTION_DAYS?: number;

  @IsIn(['delete', 'redact'])
  RETENTION_MODE: 'delete' | 'redact' = 'delete';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  RETENTION_BATCH_SIZE = 500;

  /** Longest a history API query may run in Postgres (for an export: the longest it waits on a lock). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  HISTORY_STATEMENT_TIMEOUT_MS = 10_000;

  /** Exports running at once, each holding a pooled connection; must stay below DB_POOL_SIZE. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(99)
  EXPORT_MAX_CONCURRENT = 2;

  /** An export whose client has read nothing for this long is cut, releasing its connection. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  EXPORT_STALL_TIMEOUT_MS = 30_000;
}

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
