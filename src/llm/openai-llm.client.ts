import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { AppConfig } from '../config/app-config';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { ChatMessage, CompletionChunk, CompletionRequest, LlmClient } from './llm-client';

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
        messages: request.messages.map(toOpenAiMessage),
        temperature: request.temperature,
        max_tokens: request.maxTokens,
        stream: true,
        stream_options: { include_usage: true },
        ...(request.tools?.length
          ? {
              tools: request.tools.map((tool) => ({
                type: 'function' as const,
                function: { name: tool.name, description: tool.description, parameters: tool.parameters },
              })),
              tool_choice: request.toolChoice ?? 'auto',
            }
          : {}),
      },
      { signal: request.signal },
    );
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const text = choice?.delta?.content;
      if (text) yield { type: 'text', text };
      for (const call of choice?.delta?.tool_calls ?? []) {
        yield {
          type: 'tool_call_delta',
          index: call.index,
          id: call.id ?? undefined,
          name: call.function?.name ?? undefined,
          arguments: call.function?.arguments ?? undefined,
        };
      }
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

function toOpenAiMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      if (!message.toolCalls?.length) return { role: 'assistant', content: message.content ?? '' };
      return {
        role: 'assistant',
        content: message.content,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    default:
      return { role: message.role, content: message.content };
  }
}
