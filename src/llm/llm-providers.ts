import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DEFAULT_PROVIDER, LlmProviderConfig } from '../config/llm-provider-config';
import { CircuitBreaker, CircuitState } from './circuit-breaker';
import { LlmClient } from './llm-client';
import { LlmTelemetry } from './llm-telemetry';
import { OpenAiCompatibleClient } from './openai-compatible.client';

/**
 * DI token of the `(provider) => LlmClient` that builds the client of each named provider
 * (LlmModule binds the `openai` package, OpenAiCompatibleClient). Tests bind scripted clients.
 */
export const LLM_CLIENT_FACTORY = Symbol('LLM_CLIENT_FACTORY');
export type LlmClientFactory = (provider: LlmProviderConfig) => LlmClient;

export const openAiCompatibleClients: LlmClientFactory = (provider) => new OpenAiCompatibleClient(provider);

/** One configured provider: its settings, its client, its circuit. */
export class LlmProvider {
  constructor(
    readonly config: LlmProviderConfig,
    readonly client: LlmClient,
    readonly breaker: CircuitBreaker,
  ) {}

  get name(): string {
    return this.config.name;
  }
}

/**
 * Every provider the service may call, built once at boot: `default` uses the client bound
 * to the LlmClient token (the OPENAI_* variables, or an extension's), each named provider a
 * client of its own. Answers, at the start of each turn, which providers to try and in
 * which order.
 */
@Injectable()
export class LlmProviders {
  private readonly logger = new Logger('LlmProviders');
  private readonly byName = new Map<string, LlmProvider>();
  private readonly defaultOrder: LlmProvider[];

  constructor(
    config: AppConfig,
    defaultClient: LlmClient,
    telemetry: LlmTelemetry,
    @Inject(LLM_CLIENT_FACTORY) clientFor: LlmClientFactory,
  ) {
    const { failureThreshold, openMs } = config.llm.circuit;
    for (const provider of providersOf(config)) {
      const breaker = new CircuitBreaker(failureThreshold, openMs, (state, detail) => {
        const message = circuitMessage(provider.name, state, detail, openMs);
        if (state === 'open') this.logger.warn(message);
        else this.logger.log(message);
        telemetry.emit({ type: 'circuit', provider: provider.name, state });
      });
      const client = provider.name === DEFAULT_PROVIDER ? defaultClient : clientFor(provider);
      this.byName.set(provider.name, new LlmProvider(provider, client, breaker));
    }
    const order = config.llm.providerOrder.length ? config.llm.providerOrder : [...this.byName.keys()];
    this.defaultOrder = order.map((name) => this.byName.get(name)).filter((p): p is LlmProvider => p !== undefined);
  }

  get all(): LlmProvider[] {
    return [...this.byName.values()];
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): LlmProvider | undefined {
    return this.byName.get(name);
  }

  /**
   * The providers a turn tries, in order: the agent's list (names no longer configured are
   * left out) or the default order. A fresh array the turn may consume.
   */
  route(names: readonly string[] | undefined): LlmProvider[] {
    if (names?.length) {
      const chosen = names.map((name) => this.byName.get(name)).filter((p): p is LlmProvider => p !== undefined);
      if (chosen.length) return chosen;
    }
    return [...this.defaultOrder];
  }
}

/** The providers of a configuration; a hand-built AppConfig (tests) may have none: then `default` alone. */
function providersOf(config: AppConfig): LlmProviderConfig[] {
  if (config.llm.providers.length) return config.llm.providers;
  return [defaultProviderConfig(config)];
}

/** The `default` provider: as configured, or as the OPENAI_* variables describe it. */
export function defaultProviderConfig(config: AppConfig): LlmProviderConfig {
  return (
    config.llm.providers.find((p) => p.name === DEFAULT_PROVIDER) ?? {
      name: DEFAULT_PROVIDER,
      kind: 'openai',
      apiKey: config.llm.apiKey,
      baseUrl: config.llm.baseUrl,
      headers: {},
      firstTokenTimeoutMs: config.llm.firstTokenTimeoutMs,
      idleTimeoutMs: config.llm.idleTimeoutMs,
      maxTokensParam: 'max_tokens',
    }
  );
}

function circuitMessage(name: string, state: CircuitState, detail: string, openMs: number): string {
  switch (state) {
    case 'open':
      return `LLM provider ${name}: circuit open (${detail}); turns skip it for ${Math.round(openMs / 1000)} s or as the provider asked`;
    case 'half_open':
      return `LLM provider ${name}: circuit half-open (${detail}); the next turn tries it once`;
    case 'closed':
      return `LLM provider ${name}: circuit closed again (${detail})`;
  }
}
