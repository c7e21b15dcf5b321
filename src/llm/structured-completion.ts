import { Injectable } from '@nestjs/common';
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { LlmProviderConfig } from '../config/llm-provider-config';
import type { ChatMessage, TokenUsage } from './llm-client';
import { LlmProviders } from './llm-providers';
import { openAiFor, tokenUsage, toOpenAiMessage } from './openai-compatible.client';

/** A request whose answer must be a JSON object valid for `schema` (OpenAI's strict structured outputs). */
export interface StructuredRequest {
  /** A configured provider's name. */
  provider: string;
  model: string;
  messages: ChatMessage[];
  /** Names the schema for the provider (letters, digits, _ and -). */
  schemaName: string;
  schema: Record<string, unknown>;
  temperature: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface StructuredAnswer {
  /** The answer's text as the model wrote it: not yet parsed or validated. */
  content: string;
  /** The model the provider says answered. */
  model: string;
  usage?: TokenUsage;
  finishReason: string | null;
}

/**
 * One whole (non-streamed) chat completion asking for JSON through
 * `response_format: { type: 'json_schema', json_schema: { name, schema, strict: true } }`,
 * for work off the call path (post-call analysis). Same providers and `openai` client as the
 * replies, without their failover: the caller retries.
 */
@Injectable()
export class StructuredCompletion {
  private readonly clients = new Map<string, OpenAI>();

  constructor(private readonly providers: LlmProviders) {}

  async complete(request: StructuredRequest): Promise<StructuredAnswer> {
    const provider = this.providers.get(request.provider)?.config;
    if (!provider) throw new Error(`unknown LLM provider "${request.provider}"`);
    const body: ChatCompletionCreateParamsNonStreaming & Record<string, unknown> = {
      model: provider.model ?? request.model,
      messages: request.messages.map(toOpenAiMessage),
      temperature: provider.temperature ?? request.temperature,
      response_format: {
        type: 'json_schema',
        json_schema: { name: request.schemaName, schema: request.schema, strict: true },
      },
      ...provider.extraBody,
    };
    const completion = await this.clientFor(provider, request.timeoutMs).chat.completions.create(body, {
      signal: request.signal,
    });
    const choice = completion.choices[0];
    return {
      content: choice?.message.content ?? '',
      model: completion.model || body.model,
      usage: completion.usage ? tokenUsage(completion.usage) : undefined,
      finishReason: choice?.finish_reason ?? null,
    };
  }

  private clientFor(provider: LlmProviderConfig, timeoutMs: number): OpenAI {
    const key = `${provider.name}:${timeoutMs}`;
    let client = this.clients.get(key);
    if (!client) {
      client = openAiFor(provider, timeoutMs);
      this.clients.set(key, client);
    }
    return client;
  }
}
