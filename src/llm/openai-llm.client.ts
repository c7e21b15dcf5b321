import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { defaultProviderConfig } from './llm-providers';
import { OpenAiCompatibleClient } from './openai-compatible.client';

/**
 * The client bound to the LlmClient token: the `default` provider (OPENAI_BASE_URL,
 * OPENAI_API_KEY). An extension can bind another implementation with `useClass`; named
 * providers (LLM_PROVIDERS) each get an OpenAiCompatibleClient of their own.
 */
@Injectable()
export class OpenAiLlmClient extends OpenAiCompatibleClient {
  constructor(config: AppConfig) {
    super(defaultProviderConfig(config));
  }
}
