/** The narrow view of a chat-completions provider the rest of the service depends on. */

/** A function call the model asked for, once its streamed deltas are complete. */
export interface ToolCallRequest {
  id: string;
  name: string;
  /** JSON text as the model wrote it (not yet parsed or validated). */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCallRequest[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A tool offered to the model: `parameters` is a JSON schema of its arguments object. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  model: string;
  temperature: number;
  maxTokens?: number;
  signal: AbortSignal;
  /** Omitted or empty: no tools are sent. */
  tools?: ToolSpec[];
  /** 'none' keeps the tools visible but asks for a spoken answer (last round of a tool loop). */
  toolChoice?: 'auto' | 'none';
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Of the completion tokens, those a reasoning model spent thinking, when the provider says. */
  reasoningTokens?: number;
}

export type CompletionChunk =
  | { type: 'text'; text: string }
  /**
   * A piece of a streamed tool call. Pieces with the same index belong to one call; some
   * providers leave the index out, repeat the id on every piece, or send a call whole
   * (ToolCallAccumulator copes with each).
   */
  | { type: 'tool_call_delta'; index?: number; id?: string; name?: string; arguments?: string }
  /** Thinking of a reasoning model (`reasoning_content` or `reasoning`): never spoken. */
  | { type: 'reasoning'; text: string }
  | { type: 'usage'; usage: TokenUsage }
  /** The model the provider says answered (its stream's `model` field), once. */
  | { type: 'model'; model: string }
  | { type: 'finish'; reason: string };

/**
 * DI token for the provider. The default is the `openai` package; an extension can
 * bind another implementation with `useClass`.
 */
export abstract class LlmClient {
  /** Yields chunks as they arrive. When `signal` aborts, it ends early or rejects. */
  abstract streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk>;
}
