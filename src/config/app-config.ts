import { availableParallelism } from 'node:os';
import { readOrCreateApiKey, StoredApiKey } from './api-key-file';
import { EnvironmentVariables, validateEnvironment } from './environment-variables';
import { LlmProviderConfig, providerSecrets } from './llm-provider-config';

/**
 * The typed configuration the rest of the service injects. A class so it can
 * serve as its own DI token; tests build one with `AppConfig.from({...})`.
 */
export class AppConfig {
  /** NODE_ENV=production: no conveniences that trade safety for a quick start. */
  readonly production: boolean;
  readonly http: { port: number; host: string };
  readonly logLevel: EnvironmentVariables['LOG_LEVEL'];
  readonly database: { url?: string; embeddedDir: string; poolSize: number };
  readonly ws: { authToken?: string; maxFrameBytes: number };
  readonly llm: {
    apiKey?: string;
    baseUrl?: string;
    model: string;
    systemPrompt: string;
    temperature: number;
    maxTokens?: number;
    firstTokenTimeoutMs: number;
    idleTimeoutMs: number;
    /** Every provider, `default` (the OPENAI_* variables) first when it is defined. */
    providers: LlmProviderConfig[];
    /** Failover order of agents without their own list. */
    providerOrder: string[];
    /** Hedging for agents without a profile; undefined = none. */
    hedgeAfterMs?: number;
    circuit: { failureThreshold: number; openMs: number };
    /** Every provider's key and credential headers, for the log scrubber. */
    secrets: string[];
  };
  readonly call: { greeting?: string; greetingPrompt: string; fallbackMessage: string; shutdownGraceMs: number };
  /** Defaults for agents without a profile in agent_profiles. */
  readonly agents: {
    tools: string[];
    transferDestinations: Array<{ name: string; destination: string }>;
    farewellMessage: string;
    /** Preemptive replies for agents whose profile does not say (PREEMPTIVE_REPLIES). */
    preemptiveReplies: boolean;
    profileCacheTtlMs: number;
    profileCacheMax: number;
  };
  readonly tools: { timeoutMs: number; fillerAfterMs: number; maxRounds: number };
  readonly audit: {
    flushIntervalMs: number;
    batchSize: number;
    batchBytes: number;
    maxBacklog: number;
    maxBacklogBytes: number;
    stallMs: number;
    poolSize: number;
    shutdownFlushMs: number;
    deadLetterFile: string;
  };
  /** `keyFile` is set when the key was read from (or made into) API_KEY_FILE rather than given as API_KEY. */
  readonly api: { key?: string; keyFile?: { path: string; created: boolean } };
  readonly history: { statementTimeoutMs: number; exportMaxConcurrent: number; exportStallTimeoutMs: number };
  /** Post-call analysis: `enabled` for agents whose profile does not say; provider and model resolved. */
  readonly analysis: {
    enabled: boolean;
    provider: string;
    model: string;
    prompt: string;
    maxAttempts: number;
    retryDelaySeconds: number;
    concurrency: number;
  };
  readonly retention: { days?: number; mode: EnvironmentVariables['RETENTION_MODE']; batchSize: number };
  /** The job queue (pg-boss) and the dispatch of call events to it. */
  readonly jobs: { poolSize: number; keepDays: number; callEventsPollMs: number };
  readonly webhooks: {
    maxDeliveryHours: number;
    retryDelaySeconds: number;
    timeoutMs: number;
    concurrency: number;
    allowPrivateUrls: boolean;
  };
  readonly security: {
    allowedIps: string[];
    trustedProxy: boolean;
    maxCalls: number;
    maxFramesPerSecond: number;
    frameBurst: number;
    pingIntervalMs: number;
    metricsToken?: string;
  };
  readonly logging: { format: EnvironmentVariables['LOG_FORMAT']; pii: boolean };
  readonly metrics: { maxAgentLabels: number };
  /** `takeoverAfterMs`: INSTANCE_TAKEOVER_AFTER_MS, raised to 3 heartbeats if set lower. */
  readonly instance: { name?: string; heartbeatMs: number; takeoverAfterMs: number };
  /**
   * `workers`: undefined = one process; otherwise the node:cluster workers to run (WORKERS, `auto`
   * resolved to the available cores). `workerSlot`: set in a worker by the primary that forked it.
   */
  readonly cluster: { workers?: number; workerSlot?: number };

  constructor(env: EnvironmentVariables, storedKey?: StoredApiKey) {
    this.production = env.NODE_ENV === 'production';
    this.http = { port: env.PORT, host: env.HOST };
    this.logLevel = env.LOG_LEVEL;
    this.database = { url: env.DATABASE_URL, embeddedDir: env.EMBEDDED_DB_DIR, poolSize: env.DB_POOL_SIZE };
    this.ws = { authToken: env.WS_AUTH_TOKEN, maxFrameBytes: env.WS_MAX_PAYLOAD };
    this.llm = {
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      model: env.OPENAI_MODEL,
      systemPrompt: env.SYSTEM_PROMPT,
      temperature: env.LLM_TEMPERATURE,
      maxTokens: env.LLM_MAX_TOKENS,
      firstTokenTimeoutMs: env.LLM_TIMEOUT_MS,
      idleTimeoutMs: env.LLM_IDLE_TIMEOUT_MS,
      providers: env.llmProviders,
      providerOrder: env.llmProviderOrder,
      hedgeAfterMs: env.LLM_HEDGE_AFTER_MS,
      circuit: { failureThreshold: env.LLM_CIRCUIT_FAILURES, openMs: env.LLM_CIRCUIT_OPEN_MS },
      secrets: providerSecrets(env.llmProviders),
    };
    this.call = {
      greeting: env.GREETING,
      greetingPrompt: env.GREETING_PROMPT,
      fallbackMessage: env.FALLBACK_MESSAGE,
      shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    };
    this.agents = {
      tools: (env.AGENT_TOOLS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      transferDestinations: (env.TRANSFER_DESTINATIONS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((entry) => {
          const [name, destination] = entry.split('=');
          return { name, destination };
        }),
      farewellMessage: env.FAREWELL_MESSAGE,
      preemptiveReplies: env.PREEMPTIVE_REPLIES,
      profileCacheTtlMs: env.AGENT_PROFILE_CACHE_TTL_MS,
      profileCacheMax: env.AGENT_PROFILE_CACHE_MAX,
    };
    this.tools = {
      timeoutMs: env.TOOL_TIMEOUT_MS,
      fillerAfterMs: env.TOOL_FILLER_AFTER_MS,
      maxRounds: env.MAX_TOOL_ROUNDS,
    };
    this.audit = {
      flushIntervalMs: env.AUDIT_FLUSH_INTERVAL_MS,
      batchSize: env.AUDIT_BATCH_SIZE,
      batchBytes: env.AUDIT_BATCH_BYTES,
      maxBacklog: env.AUDIT_MAX_BACKLOG,
      maxBacklogBytes: env.AUDIT_MAX_BACKLOG_BYTES,
      stallMs: env.AUDIT_STALL_MS,
      poolSize: env.AUDIT_DB_POOL_SIZE,
      shutdownFlushMs: env.AUDIT_SHUTDOWN_FLUSH_MS,
      deadLetterFile: env.AUDIT_DEAD_LETTER_FILE,
    };
    this.api =
      storedKey && !env.API_KEY
        ? { key: storedKey.key, keyFile: { path: storedKey.file, created: storedKey.created } }
        : { key: env.API_KEY };
    this.history = {
      statementTimeoutMs: env.HISTORY_STATEMENT_TIMEOUT_MS,
      exportMaxConcurrent: env.EXPORT_MAX_CONCURRENT,
      exportStallTimeoutMs: env.EXPORT_STALL_TIMEOUT_MS,
    };
    this.analysis = {
      enabled: env.ANALYSIS_ENABLED,
      provider: env.ANALYSIS_PROVIDER ?? env.llmProviderOrder[0] ?? 'default',
      model: env.ANALYSIS_MODEL ?? env.OPENAI_MODEL,
      prompt: env.ANALYSIS_PROMPT,
      maxAttempts: env.ANALYSIS_MAX_ATTEMPTS,
      retryDelaySeconds: env.ANALYSIS_RETRY_DELAY_SECONDS,
      concurrency: env.ANALYSIS_CONCURRENCY,
    };
    this.retention = { days: env.RETENTION_DAYS, mode: env.RETENTION_MODE, batchSize: env.RETENTION_BATCH_SIZE };
    this.jobs = {
      poolSize: env.JOBS_DB_POOL_SIZE,
      keepDays: env.JOBS_KEEP_DAYS,
      callEventsPollMs: env.CALL_EVENTS_POLL_MS,
    };
    this.webhooks = {
      maxDeliveryHours: env.WEBHOOK_MAX_DELIVERY_HOURS,
      retryDelaySeconds: env.WEBHOOK_RETRY_DELAY_SECONDS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      concurrency: env.WEBHOOK_CONCURRENCY,
      allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS,
    };
    this.security = {
      allowedIps: (env.WS_ALLOWED_IPS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      trustedProxy: env.TRUSTED_PROXY,
      maxCalls: env.MAX_CALLS,
      maxFramesPerSecond: env.WS_MAX_FRAMES_PER_SECOND,
      frameBurst: env.WS_FRAME_BURST,
      pingIntervalMs: env.WS_PING_INTERVAL_MS,
      metricsToken: env.METRICS_TOKEN,
    };
    this.logging = { format: env.LOG_FORMAT, pii: env.LOG_PII };
    this.metrics = { maxAgentLabels: env.METRICS_MAX_AGENT_LABELS };
    this.instance = {
      name: env.INSTANCE_NAME,
      heartbeatMs: env.INSTANCE_HEARTBEAT_MS,
      takeoverAfterMs: Math.max(env.INSTANCE_TAKEOVER_AFTER_MS, 3 * env.INSTANCE_HEARTBEAT_MS),
    };
    this.cluster = {
      workers: env.WORKERS === 'auto' ? availableParallelism() : env.WORKERS,
      workerSlot: env.CLUSTER_WORKER_SLOT,
    };
  }

  static from(raw: Record<string, unknown>): AppConfig {
    return new AppConfig(validateEnvironment(raw));
  }

  /**
   * The configuration of the running service. Outside production, a service started without
   * API_KEY uses the key kept in API_KEY_FILE (made at first start) so the call desk opens from
   * a fresh checkout; in production it stays without one and /api refuses every request.
   */
  static forService(raw: Record<string, unknown>): AppConfig {
    const env = validateEnvironment(raw);
    const stored = !env.API_KEY && env.NODE_ENV !== 'production' ? readOrCreateApiKey(env.API_KEY_FILE) : undefined;
    return new AppConfig(env, stored);
  }
}
