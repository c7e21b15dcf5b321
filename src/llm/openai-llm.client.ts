import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { AppConfig } from '../config/app-config';
import { CompletionChunk, CompletionRequest, LlmClient } from './llm-client';

/** Any OpenAI-compatible endpoint, through OPENAI_BASE_URL. */
@Injectable()
export class OpenAiLlmClient extends LlmClient {
  private readonly openai: OpenAI;

  constructor(config: AppConfig) {
    super();
    this.openai = new OpenAI({
      apiKey: config.llm.apiKey ?? 'unset',
      baseURL: config.llm.baseUrl,
      // A voice turn cannot wait for retries; the caller hears the fallback instead.
      maxRetries: 0,
      // Our own first-token watchdog (LlmService) fires first and says why; this is a backstop.
      timeout: config.llm.firstTokenTimeoutMs + 1_000,
    });
  }

  async *streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk> {
    const stream = await this.openai.chat.completions.create(
      {
        model: request.model,
        messages: request.messages,
        temperature: request.temperature,
        max_tokens: request.maxTokens,
        stream: true,
        stream_options: { include_usage: true },
      },
      { signal: request.signal },
    );
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const text = choice?.delta?.content;
      if (text) yield { type: 'text', text };
      if (choice?.finish_reason) yield { type: 'finish', reason: choice.finish_reason };
      if (chunk.usage) {
        yield {
          type: 'usage',
          usage: {
            promptTokens: chunk.usage.prompt_tokens,
            completionTokens: chunk.usage.completion_tokens,
            totalTokens: chunk.usage.total_tokens,
          },
        };
      }
    }
  }
}
