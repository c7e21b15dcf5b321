import { Injectable } from '@nestjs/common';
import { APIConnectionError, APIError } from 'openai';
import { AppConfig } from '../config/app-config';
import { ChatMessage, CompletionChunk, LlmClient, ToolSpec } from './llm-client';
import { LlmReplyError } from './llm-errors';
import { LinkedAbortController } from './linked-abort-controller';
import { renderTemplate } from './prompt-template';
import { interleaveToolRounds, ToolRound } from './tool-history';

export interface TranscriptTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface ReplyRequest {
  /** The conversation so far, as the platform sent it. */
  transcript: TranscriptTurn[];
  /** Values for `{{placeholders}}` in the system prompt. */
  promptContext: Record<string, unknown>;
  /** Aborted when the caller interrupts or a newer request supersedes this one. */
  signal: AbortSignal;
  /** Extra instruction as the last user message (the greeting prompt). */
  instruction?: string;
  /** Per-agent overrides of the configured prompt and model settings. */
  settings?: Partial<LlmSettings>;
  /** Tools offered to the model, and whether it may call them this round. */
  tools?: ToolSpec[];
  toolChoice?: 'auto' | 'none';
  /** Tool calls and results of this call so far, replayed where they happened. */
  toolRounds?: readonly ToolRound[];
}

export interface LlmSettings {
  systemPrompt: string;
  model: string;
  temperature: number;
  maxTokens?: number;
}

/**
 * Streams one reply: prompt assembly, the provider call, and the guards a voice turn
 * needs (time to first token, silence between tokens, a stream that ends without
 * finishing). Yields chunks as they arrive; throws LlmReplyError on failure; returns
 * quietly when the caller's signal aborts.
 */
@Injectable()
export class LlmService {
  constructor(
    private readonly client: LlmClient,
    private readonly config: AppConfig,
  ) {}

  get model(): string {
    return this.config.llm.model;
  }

  buildMessages(request: Pick<ReplyRequest, 'transcript' | 'promptContext' | 'instruction' | 'settings' | 'toolRounds'>): ChatMessage[] {
    const systemPrompt = request.settings?.systemPrompt ?? this.config.llm.systemPrompt;
    const transcript = request.transcript.map((turn): ChatMessage => ({ role: turn.role, content: turn.content }));
    const messages: ChatMessage[] = [
      { role: 'system', content: renderTemplate(systemPrompt, request.promptContext) },
      ...interleaveToolRounds(transcript, request.toolRounds ?? []),
    ];
    if (request.instruction) messages.push({ role: 'user', content: request.instruction });
    return messages;
  }

  async *streamReply(request: ReplyRequest): AsyncGenerator<CompletionChunk> {
    const { firstTokenTimeoutMs, idleTimeoutMs } = this.config.llm;
    // One controller for this model request: the caller's signal aborts it, and so does the watchdog.
    const upstream = new LinkedAbortController(request.signal);
    const { signal } = upstream;
    let timedOut = false;
    const expire = () => {
      timedOut = true;
      upstream.abort(new Error('LLM watchdog'));
    };
    let timer = setTimeout(expire, firstTokenTimeoutMs);
    let timeoutMs = firstTokenTimeoutMs;
    let receivedText = false;
    let finished = false;

    try {
      const chunks = this.client.streamCompletion({
        messages: this.buildMessages(request),
        model: request.settings?.model ?? this.config.llm.model,
        temperature: request.settings?.temperature ?? this.config.llm.temperature,
        maxTokens: request.settings?.maxTokens ?? this.config.llm.maxTokens,
        signal,
        ...(request.tools?.length ? { tools: request.tools, toolChoice: request.toolChoice } : {}),
      });
      for await (const chunk of chunks) {
        if (signal.aborted) break;
        // A tool call being written is output too: it keeps the watchdog fed like text.
        if (chunk.type === 'text' || chunk.type === 'tool_call_delta') {
          if (!receivedText) {
            receivedText = true;
            timeoutMs = idleTimeoutMs;
            clearTimeout(timer);
            timer = setTimeout(expire, timeoutMs);
          } else {
            // Re-arming the same timer allocates nothing: this runs once per token.
            timer.refresh();
          }
        }
        if (chunk.type === 'finish') finished = true;
        yield chunk;
      }
    } catch (error) {
      if (request.signal.aborted) return;
      if (timedOut) throw this.timeoutError(receivedText, timeoutMs);
      throw upstreamError(error);
    } finally {
      clearTimeout(timer);
      // The caller's signal outlives this request (a turn with tools makes several): let go of it.
      upstream.dispose();
    }
    if (request.signal.aborted) return;
    if (timedOut) throw this.timeoutError(receivedText, timeoutMs);
    if (!finished) throw new LlmReplyError('stream_cut', 'the model stream ended before it finished');
  }

  private timeoutError(receivedText: boolean, timeoutMs: number): LlmReplyError {
    return new LlmReplyError(
      'timeout',
      receivedText ? `no token for ${timeoutMs} ms mid-reply` : `no first token within ${timeoutMs} ms`,
    );
  }
}

/** The kind comes from the error's class: a provider that was never reached did not answer anything. */
function upstreamError(error: unknown): LlmReplyError {
  if (error instanceof APIConnectionError) return new LlmReplyError('unreachable', `LLM provider unreachable: ${rootCause(error)}`);
  if (error instanceof APIError) return new LlmReplyError('upstream_error', `LLM provider answered ${error.status ?? 'with an error'}: ${error.message}`);
  return new LlmReplyError('upstream_error', `LLM request failed: ${(error as Error)?.message ?? String(error)}`);
}

/** "Connection error." says nothing; the socket error under it (ECONNREFUSED, ENOTFOUND...) does. */
function rootCause(error: Error): string {
  let deepest: ErrorLike = error;
  // Duck-typed: Node's own errors may come from another realm (a test VM), where instanceof fails.
  while (isErrorLike(deepest.cause)) deepest = deepest.cause;
  return String(deepest.message || deepest.code || error.message);
}

type ErrorLike = { message?: unknown; code?: unknown; cause?: unknown };

function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && 'message' in value;
}
