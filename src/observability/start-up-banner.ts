import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { AppConfig } from '../config/app-config';
import type { LlmProviderConfig } from '../config/llm-provider-config';
import { logFormat, type LogFormat } from './logging';

/** What someone who just started the service needs: where to point Millis, where to look, and with which LLM. */
export interface StartUpFacts {
  websocketUrl: string;
  dashboardUrl: string;
  /** How to sign in to the call desk. */
  signIn: string;
  /** The key itself, only when it was made for this machine (never one given as API_KEY). */
  apiKey?: string;
  apiKeyFile?: string;
  llm: string;
  /** With WORKERS: how many worker processes serve the port. */
  workers?: number;
}

/**
 * Prints the banner once the service listens (by the process itself, or by a cluster's primary
 * once every worker does), at LOG_LEVEL log or more. Beside the logger: it shows the key the
 * scrubber would hide.
 */
export function writeStartUpBanner(config: AppConfig, port: number): void {
  if (config.logLevel === 'error' || config.logLevel === 'warn') return;
  writeSync(1, renderStartUpBanner(startUpFacts(config, port), logFormat(config)));
}

export function startUpFacts(config: AppConfig, port: number): StartUpFacts {
  const host = ['0.0.0.0', '::', ''].includes(config.http.host)
    ? 'localhost'
    : config.http.host.includes(':')
      ? `[${config.http.host}]`
      : config.http.host;
  const base = `${host}:${port}`;
  const keyFile = config.api.keyFile;
  return {
    websocketUrl: `ws://${base}/llm-websocket${config.ws.authToken ? '?token=<WS_AUTH_TOKEN>' : ''}`,
    dashboardUrl: `http://${base}/`,
    signIn: keyFile
      ? `sign in with the key ${config.api.key} (${keyFile.created ? 'made now and kept' : 'kept'} in ${keyFile.path})`
      : config.api.key
        ? 'sign in with API_KEY'
        : 'closed: API_KEY is not set, so every /api request is refused',
    apiKey: keyFile ? config.api.key : undefined,
    apiKeyFile: keyFile?.path,
    llm: llmInUse(config),
    ...(config.cluster.workers === undefined ? {} : { workers: config.cluster.workers }),
  };
}

function llmInUse(config: AppConfig): string {
  const { providers, providerOrder } = config.llm;
  const where = (provider: LlmProviderConfig) =>
    `${provider.model ?? config.llm.model} at ${provider.baseUrl ? withoutCredentials(provider.baseUrl) : 'OpenAI'}${provider.kind === 'azure' ? ' (Azure)' : ''}`;
  if (providers.length <= 1) {
    const only = providers[0];
    if (!only || (!only.apiKey && !only.baseUrl))
      return 'none: callers hear the fallback message until OPENAI_API_KEY (or OPENAI_BASE_URL) is set';
    return where(only);
  }
  const byName = new Map(providers.map((p) => [p.name, p]));
  const order = providerOrder.length ? providerOrder : providers.map((p) => p.name);
  return `${order.map((name) => `${name}: ${where(byName.get(name)!)}`).join(', then ')} (failover in this order)`;
}

function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(OPENAI_BASE_URL)';
  }
}

/**
 * The banner in the log's format: a few aligned lines on a terminal, one JSON record in
 * JSON mode. It is written beside the logger, not through it: the scrubber would hide the
 * key it is there to show.
 */
export function renderStartUpBanner(facts: StartUpFacts, format: LogFormat, now = new Date()): string {
  if (format === 'json') {
    const record = {
      level: 30,
      time: now.getTime(),
      pid: process.pid,
      hostname: hostname(),
      context: 'Bootstrap',
      msg: `Ready: ${facts.websocketUrl}, call desk at ${facts.dashboardUrl}`,
      websocket_url: facts.websocketUrl,
      dashboard_url: facts.dashboardUrl,
      sign_in: facts.signIn,
      api_key: facts.apiKey,
      api_key_file: facts.apiKeyFile,
      llm: facts.llm,
      workers: facts.workers,
    };
    return `${JSON.stringify(record)}\n`;
  }
  const rows: Array<[string, string]> = [
    ['WebSocket', facts.websocketUrl],
    ['Call desk', `${facts.dashboardUrl}  ${facts.signIn}`],
    ['LLM', facts.llm],
    ...(facts.workers === undefined
      ? []
      : ([['Workers', `${facts.workers} worker process${facts.workers === 1 ? '' : 'es'} on the port`]] as Array<
          [string, string]
        >)),
  ];
  return [
    '',
    '  Millis LLM service is ready',
    ...rows.map(([label, value]) => `  ${label.padEnd(10)} ${value}`),
    '',
    '',
  ].join('\n');
}
