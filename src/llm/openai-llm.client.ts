import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DEFAULT_PROVIDER, LlmProviderConfig } from '../config/llm-provider-config';
import { OpenAiCompatibleClient } from './openai-compatible.client';

/**
 * The client bound to the LlmClient token: the `default` provider (OPENAI_BASE_URL,
 * OPENAI_API_KEY). An extension can bind another implementation with `useClass`; named
 * providers (LLM_PROVIDERS) each get an OpenAiCompatibleClient of their own.
 */
@Injectable()
export class OpenAiLlmClient extends OpenAiCompatibleClient {
  constructor(config: AppConfig) {
    super(defaultProvider(config));
  }
}

function defaultProvider(config: AppConfig): LlmProviderConfig {
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
