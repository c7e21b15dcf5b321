import OpenAI, { AzureOpenAI } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { LlmProviderConfig } from '../config/llm-provider-config';
import { ChatMessage, CompletionChunk, CompletionRequest, LlmClient, TokenUsage } from './llm-client';

const OPENAI_API = 'https://api.openai.com/v1';

/** The delta fields the SDK does not type: reasoning models' thinking, by either name. */
type Delta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: unknown; reasoning?: unknown };
/** Groq reports usage under x_groq on its last chunk instead of `usage`. */
type Chunk = ChatCompletionChunk & { x_groq?: { usage?: ChatCompletionChunk['usage'] } };

/**
 * One provider through the `openai` package: any OpenAI-compatible endpoint, or Azure
 * OpenAI through its AzureOpenAI client (deployment in the path, api-version in the query,
 * the key as the `api-key` header). Reads the stream's dialects into CompletionChunks:
 * chunks with no choices (usage, Azure's prompt filter results), choices with no delta
 * (Azure's content filter annotations), `reasoning_content` / `reasoning` deltas, usage on
 * every chunk or under `x_groq`, tool-call pieces with or without an index.
 */
export class OpenAiCompatibleClient extends LlmClient {
  private readonly openai: OpenAI;

  constructor(private readonly provider: LlmProviderConfig) {
    super();
    // Our own first-token watchdog (LlmService) fires first and says why; the SDK's timeout is a backstop.
    this.openai = openAiFor(provider, provider.firstTokenTimeoutMs + 1_000);
  }

  async *streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk> {
    const { provider } = this;
    const body: ChatCompletionCreateParamsStreaming & Record<string, unknown> = {
      model: request.model,
      messages: request.messages.map(toOpenAiMessage),
      temperature: provider.temperature ?? request.temperature,
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
      ...provider.extraBody,
    };
    if (request.maxTokens !== undefined) body[provider.maxTokensParam] = request.maxTokens;
    const stream = await this.openai.chat.completions.create(body, { signal: request.signal });

    let modelSeen = false;
    for await (const chunk of stream as AsyncIterable<Chunk>) {
      if (!modelSeen && chunk.model) {
        modelSeen = true;
        yield { type: 'model', model: chunk.model };
      }
      const choice = chunk.choices?.[0];
      const delta = choice?.delta as Delta | undefined;
      if (delta) {
        const reasoning = delta.reasoning_content ?? delta.reasoning;
        if (typeof reasoning === 'string' && reasoning) yield { type: 'reasoning', text: reasoning };
        const text = delta.content;
        if (text) yield { type: 'text', text };
        if (delta.tool_calls) {
          for (const call of delta.tool_calls) {
            yield {
              type: 'tool_call_delta',
              index: call.index ?? undefined,
              id: call.id ?? undefined,
              name: call.function?.name ?? undefined,
              arguments: call.function?.arguments ?? undefined,
            };
          }
        }
      }
      if (choice?.finish_reason) yield { type: 'finish', reason: choice.finish_reason };
      const usage = chunk.usage ?? chunk.x_groq?.usage;
      if (usage) yield { type: 'usage', usage: tokenUsage(usage) };
    }
  }
}

/**
 * The `openai` package's client for a provider: OpenAI-compatible, or Azure OpenAI (deployment in
 * the path, api-version in the query, the key as the `api-key` header). No SDK retries: a voice
 * turn moves on to the next provider instead, and background work retries on its own terms.
 */
export function openAiFor(provider: LlmProviderConfig, timeoutMs: number): OpenAI {
  const common = {
    apiKey: provider.apiKey ?? 'unset',
    // Given explicitly: the SDK would otherwise read OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment.
    organization: null,
    project: null,
    defaultHeaders: provider.headers,
    maxRetries: 0,
    timeout: timeoutMs,
  };
  return provider.kind === 'azure'
    ? new AzureOpenAI({
        ...common,
        // baseURL rather than endpoint: given explicitly, the SDK does not fall back to OPENAI_BASE_URL.
        baseURL: `${provider.baseUrl!.replace(/\/+$/, '')}/openai`,
        apiVersion: provider.apiVersion,
        deployment: provider.deployment,
      })
    : new OpenAI({ ...common, baseURL: provider.baseUrl ?? OPENAI_API });
}

export function tokenUsage(usage: NonNullable<ChatCompletionChunk['usage']>): TokenUsage {
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens,
    ...(typeof reasoning === 'number' ? { reasoningTokens: reasoning } : {}),
  };
}

export function toOpenAiMessage(message: ChatMessage): ChatCompletionMessageParam {
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
