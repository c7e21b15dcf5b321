import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AgentSettings } from '../agents/agent-settings';
import { ExchangeRecord } from '../audit/audit-records';
import { AuditWriter } from '../audit/audit-writer.service';
import { preciseNow } from '../common/clock';
import { describeError } from '../common/describe-error';
import { LlmReplyError } from '../llm/llm-errors';
import type { ReplyChunk, TranscriptTurn } from '../llm/llm-reply';
import { LlmService } from '../llm/llm.service';
import { renderTemplate } from '../llm/prompt-template';
import { ReplyPiece, ReplyShaper, shapeCompleteText } from '../llm/reply-shaper';
import { endCall, serializeFrame, serializeStreamResponse, transferCall } from '../protocol/outbound-frames';
import type { CallControlAction } from '../tools/tool-context';
import { ToolLoop, TurnEvent } from '../tools/tool-loop';
import { AbortCause, CallConnection, ReplyInFlight } from './call-connection';
import { CallActivityFeed, ReplyErrorCode } from '../call-activity/call-activity.feed';
import { ExchangeStatus } from '../call-records/call-status';
import { afterRound, failedAttemptRecord, hedgeRecord, priceHedges } from './exchange-records';
import type { HeldReply } from './held-reply';

const STATUS_FOR_ABORT: Record<AbortCause, ExchangeStatus> = {
  interrupted: 'interrupted',
  superseded: 'superseded',
  connection_closed: 'interrupted',
  shutdown: 'interrupted',
};

/**
 * One reply on the wire: the greeting or a streamed LLM turn (tools included), the
 * rule that a reply which lost the right to speak sends nothing more, the fallback
 * on failure, call control after the last word, and the exchange's audit record.
 * The only writer of the exchange and of the call's tool history: the turn yields
 * what happened, this applies it.
 */
@Injectable()
export class ReplyRunner {
  constructor(
    private readonly llm: LlmService,
    private readonly audit: AuditWriter,
    private readonly activity: CallActivityFeed,
    private readonly turns: ToolLoop,
  ) {}

  greet(call: CallConnection, reply: ReplyInFlight, agent: AgentSettings): Promise<void> {
    if (agent.greeting === undefined) return this.runLlm(call, reply, [], agent.greetingPrompt);
    this.speakCompleteText(call, reply, renderTemplate(agent.greeting, call.promptContext));
    this.finish(call, reply, 'completed');
    return Promise.resolve();
  }

  begin(
    call: CallConnection,
    streamId: number,
    kind: ExchangeRecord['kind'],
    transcript: TranscriptTurn[],
  ): ReplyInFlight {
    const exchange: ExchangeRecord = {
      id: randomUUID(),
      sessionId: call.session!.sessionId,
      streamId,
      kind,
      transcript,
      responseText: '',
      status: 'streaming',
      model: null,
      error: null,
      errorCode: null,
      requestedAt: preciseNow(),
      firstTokenAt: null,
      completedAt: null,
      promptTokens: null,
      completionTokens: null,
      totalTokens: null,
    };
    const reply: ReplyInFlight = {
      streamId,
      exchange,
      transcript,
      controller: new AbortController(),
      done: Promise.resolve(),
    };
    call.replyBegan(reply);
    this.audit.recordExchange(exchange);
    const lastUser = [...transcript].reverse().find((turn) => turn.role === 'user');
    this.activity.publish({
      type: 'reply_started',
      sessionId: exchange.sessionId,
      streamId,
      kind,
      userText: lastUser?.content ?? null,
      at: exchange.requestedAt,
    });
    return reply;
  }

  /**
   * A reply whose first round was asked on the final partial transcript and held: its held
   * chunks go out at once, the rest as they arrive, from the same upstream request.
   */
  runPreemptive(
    call: CallConnection,
    reply: ReplyInFlight,
    transcript: TranscriptTurn[],
    held: HeldReply,
    savedMs: number,
  ): Promise<void> {
    reply.exchange.preemptive = true;
    reply.exchange.preemptionSavedMs = savedMs;
    const unfollow = held.follow(reply.controller.signal);
    const done = this.runLlm(call, reply, transcript, undefined, held.replay());
    void done.finally(unfollow);
    return done;
  }

  runLlm(
    call: CallConnection,
    reply: ReplyInFlight,
    transcript: TranscriptTurn[],
    instruction?: string,
    firstRound?: AsyncIterable<ReplyChunk>,
  ): Promise<void> {
    reply.exchange.model = call.agent?.model ?? this.llm.model;
    reply.done = this.streamLlmReply(call, reply, transcript, instruction, firstRound).catch((error: unknown) => {
      // Nothing in a reply may take the process down; log and close the exchange.
      call.log.error(
        `reply task failed on call ${call.sessionId} (unexpected): ${describeError(error, { stack: true })}`,
      );
      if (call.current === reply) this.finish(call, reply, 'failed', String(error), 'unexpected');
    });
    return reply.done;
  }

  private async streamLlmReply(
    call: CallConnection,
    reply: ReplyInFlight,
    transcript: TranscriptTurn[],
    instruction?: string,
    firstRound?: AsyncIterable<ReplyChunk>,
  ): Promise<void> {
    const shaper = new ReplyShaper();
    const { signal } = reply.controller;
    const agent = call.agent ?? (await call.agentReady);
    if (signal.aborted) return;
    reply.exchange.model = agent.model;
    let control: CallControlAction | undefined;
    try {
      const events = this.turns.run({
        transcript,
        instruction,
        promptContext: call.promptContext,
        signal,
        agent,
        rounds: call.toolRounds,
        call: toolCallInfo(call, reply.streamId),
        toolsAllowed: instruction === undefined,
        log: call.log,
        firstRound,
      });
      for await (const chunk of events) {
        // What happened is recorded even after the reply lost the right to speak.
        this.record(call, reply, chunk);
        if (signal.aborted) return;
        if (chunk.type === 'filler') {
          for (const piece of shaper.end()) this.speak(call, reply, piece);
          reply.exchange.firstTokenAt ??= preciseNow();
          this.speak(call, reply, { content: `${this.separator(reply)}${chunk.text} `, flush: true });
        } else if (chunk.type === 'call_control') {
          control = chunk.action;
        } else if (chunk.type === 'text') {
          reply.exchange.firstTokenAt ??= preciseNow();
          for (const piece of shaper.push(chunk.text)) this.speak(call, reply, piece);
        } else if (chunk.type === 'usage') {
          reply.exchange.promptTokens = chunk.total.promptTokens;
          reply.exchange.completionTokens = chunk.total.completionTokens;
          reply.exchange.totalTokens = chunk.total.totalTokens;
        }
      }
      if (signal.aborted) return;
      for (const piece of shaper.end()) this.speak(call, reply, piece);
      if (control) this.carryOut(call, reply, control, agent);
      else this.endStream(call, reply);
      this.finish(call, reply, 'completed');
    } catch (error) {
      if (signal.aborted) return;
      const code = error instanceof LlmReplyError ? error.code : 'unexpected';
      const message = error instanceof LlmReplyError ? error.message : `unexpected: ${describeError(error)}`;
      call.log.warn(`LLM reply failed on call ${call.sessionId} stream ${reply.streamId} (${code}): ${message}`);
      this.speakFallback(call, reply, agent.fallbackMessage);
      this.finish(call, reply, 'failed', message, code);
    }
  }

  /**
   * Applies to the exchange and the call's tool history what a turn reports besides speech.
   * Arrays are replaced, not pushed to: the audit queue keeps a shallow copy of the record.
   */
  private record(call: CallConnection, reply: ReplyInFlight, event: TurnEvent): void {
    const { exchange } = reply;
    switch (event.type) {
      case 'provider':
        exchange.provider = event.provider;
        exchange.model = event.model;
        return;
      case 'attempt_failed':
        exchange.failedAttempts = [...(exchange.failedAttempts ?? []), failedAttemptRecord(event.round, event.attempt)];
        if (event.attempt.code !== 'circuit_open')
          call.log.warn(
            `LLM provider ${event.attempt.provider} did not answer stream ${exchange.streamId}: ${event.attempt.error}`,
          );
        return;
      case 'hedge':
        exchange.hedges = [...(exchange.hedges ?? []), hedgeRecord(event.round, event.hedge)];
        return;
      case 'usage':
        if (exchange.hedges) exchange.hedges = priceHedges(exchange.hedges, event.round, event.usage.promptTokens);
        return;
      case 'round_end':
        Object.assign(exchange, afterRound(exchange, event.summary));
        return;
      case 'tool_round':
        call.toolRounds.push(event.round);
        exchange.toolCalls = [...(exchange.toolCalls ?? []), ...event.calls];
        this.audit.recordExchange(exchange);
        return;
    }
  }

  /** end_call: the farewell, end_of_stream, then the frame; transfer_call: end_of_stream, then the frame. */
  private carryOut(call: CallConnection, reply: ReplyInFlight, action: CallControlAction, agent: AgentSettings): void {
    if (action.kind === 'end_call') {
      // The model's own goodbye, or the agent's farewell if it has not said anything this turn.
      const farewell = action.farewell ?? (reply.exchange.responseText.trim() ? undefined : agent.farewellMessage);
      if (farewell) {
        reply.exchange.firstTokenAt ??= preciseNow();
        const text = this.separator(reply) + renderTemplate(farewell, call.promptContext);
        for (const piece of shapeCompleteText(text)) this.speak(call, reply, piece);
      }
    }
    this.endStream(call, reply);
    if (!call.maySpeak(reply)) return;
    call.endRequested(action.kind);
    call.send(
      serializeFrame(
        action.kind === 'end_call' ? endCall(reply.streamId) : transferCall(reply.streamId, action.destination),
      ),
    );
    call.log.debug(`call ${call.sessionId}: ${action.kind} sent on stream ${reply.streamId}`);
  }

  /** A space when what was already said does not end with one. */
  private separator(reply: ReplyInFlight): string {
    const sent = reply.exchange.responseText;
    return sent && !/\s$/.test(sent) ? ' ' : '';
  }

  /** Sends one piece, unless this reply has lost the right to speak. */
  private speak(call: CallConnection, reply: ReplyInFlight, piece: ReplyPiece): void {
    if (!call.maySpeak(reply)) return;
    reply.exchange.responseText += piece.content;
    call.send(serializeStreamResponse(reply.streamId, piece.content, false, piece.flush, piece.pause));
    if (this.activity.wantsPieces) {
      this.activity.publish({
        type: 'reply_piece',
        sessionId: reply.exchange.sessionId,
        streamId: reply.streamId,
        content: piece.content,
      });
    }
  }

  private endStream(call: CallConnection, reply: ReplyInFlight): void {
    if (!call.maySpeak(reply)) return;
    call.send(serializeStreamResponse(reply.streamId, '', true, true));
  }

  private speakCompleteText(call: CallConnection, reply: ReplyInFlight, text: string): void {
    reply.exchange.firstTokenAt = preciseNow();
    for (const piece of shapeCompleteText(text)) this.speak(call, reply, piece);
    this.endStream(call, reply);
  }

  /** The caller hears a short apology instead of silence; the call goes on. */
  private speakFallback(call: CallConnection, reply: ReplyInFlight, message: string): void {
    this.speak(call, reply, { content: this.separator(reply) + message, flush: true });
    this.endStream(call, reply);
  }

  abort(call: CallConnection, reply: ReplyInFlight, cause: AbortCause): void {
    if (reply.controller.signal.aborted) return;
    reply.controller.abort(cause);
    const error =
      cause === 'connection_closed' ? 'connection closed' : cause === 'shutdown' ? 'service shutting down' : null;
    this.finish(call, reply, STATUS_FOR_ABORT[cause], error);
  }

  private finish(
    call: CallConnection,
    reply: ReplyInFlight,
    status: ExchangeStatus,
    error: string | null = null,
    errorCode?: ReplyErrorCode,
  ): void {
    reply.exchange.status = status;
    reply.exchange.error = error;
    reply.exchange.errorCode = errorCode ?? null;
    reply.exchange.completedAt = preciseNow();
    this.audit.recordExchange(reply.exchange);
    call.replyEnded(reply);
    const { requestedAt, firstTokenAt, completedAt } = reply.exchange;
    this.activity.publish({
      type: 'reply_finished',
      sessionId: reply.exchange.sessionId,
      streamId: reply.streamId,
      status,
      timeToFirstTokenMs: firstTokenAt ? Date.parse(firstTokenAt) - Date.parse(requestedAt) : null,
      totalMs: Date.parse(completedAt) - Date.parse(requestedAt),
      error,
      ...(errorCode ? { errorCode } : {}),
      text: reply.exchange.responseText,
      at: completedAt,
    });
  }
}

/** What a tool may know about its call. */
function toolCallInfo(call: CallConnection, streamId: number) {
  const { sessionId, agentId, callSid, metadata, fromNumber, toNumber } = call.session!;
  return { sessionId, agentId, streamId, callSid, metadata, fromNumber, toNumber };
}
