import { Injectable } from '@nestjs/common';
import { APIError } from 'openai';
import { AppConfig } from '../config/app-config';
import { ChatMessage, CompletionChunk, LlmClient } from './llm-client';
import { LlmReplyError } from './llm-errors';
import { renderTemplate } from './prompt-template';

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

  buildMessages(request: Pick<ReplyRequest, 'transcript' | 'promptContext' | 'instruction'>): ChatMessage[] {
    const messages: ChatMessage[] = [
      { role: 'system', content: renderTemplate(this.config.llm.systemPrompt, request.promptContext) },
    ];
    for (const turn of request.transcript) messages.push({ role: turn.role, content: turn.content });
    if (request.instruction) messages.push({ role: 'user', content: request.instruction });
    return messages;
  }

  async *streamReply(request: ReplyRequest): AsyncGenerator<CompletionChunk> {
    const { firstTokenTimeoutMs, idleTimeoutMs } = this.config.llm;
    const watchdog = new AbortController();
    let timer = setTimeout(() => watchdog.abort(), firstTokenTimeoutMs);
    let timeoutMs = firstTokenTimeoutMs;
    let receivedText = false;
    let finished = false;
    const signal = AbortSignal.any([request.signal, watchdog.signal]);

    try {
      const chunks = this.client.streamCompletion({
        messages: this.buildMessages(request),
        model: this.config.llm.model,
        temperature: this.config.llm.temperature,
        maxTokens: this.config.llm.maxTokens,
        signal,
      });
      for await (const chunk of chunks) {
        if (signal.aborted) break;
        if (chunk.type === 'text') {
          if (!receivedText) {
            receivedText = true;
            timeoutMs = idleTimeoutMs;
          }
          clearTimeout(timer);
          timer = setTimeout(() => watchdog.abort(), timeoutMs);
        }
        if (chunk.type === 'finish') finished = true;
        yield chunk;
      }
    } catch (error) {
      if (request.signal.aborted) return;
      if (watchdog.signal.aborted) throw this.timeoutError(receivedText, timeoutMs);
      throw new LlmReplyError('upstream_error', describeUpstreamError(error));
    } finally {
      clearTimeout(timer);
    }
    if (request.signal.aborted) return;
    if (watchdog.signal.aborted) throw this.timeoutError(receivedText, timeoutMs);
    if (!finished) throw new LlmReplyError('stream_cut', 'the model stream ended before it finished');
  }

  private timeoutError(receivedText: boolean, timeoutMs: number): LlmReplyError {
    return new LlmReplyError(
      'timeout',
      receivedText ? `no token for ${timeoutMs} ms mid-reply` : `no first token within ${timeoutMs} ms`,
    );
  }
}

function describeUpstreamError(error: unknown): string {
  if (error instanceof APIError) return `LLM provider answered ${error.status ?? 'with an error'}: ${error.message}`;
  return `LLM request failed: ${(error as Error)?.message ?? String(error)}`;
}
