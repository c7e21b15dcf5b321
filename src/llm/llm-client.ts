/** The narrow view of a chat-completions provider the rest of the service depends on. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  model: string;
  temperature: number;
  maxTokens?: number;
  signal: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export type CompletionChunk =
  | { type: 'text'; text: string }
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'finish'; reason: string };

/**
 * DI token for the provider. The default is the `openai` package; an extension can
 * bind another implementation with `useClass`.
 */
export abstract class LlmClient {
  /** Yields chunks as they arrive. When `signal` aborts, it ends early or rejects. */
  abstract streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk>;
}
