import { Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AgentProfileService } from '../agents/agent-profile.service';
import { AgentSettings, defaultAgentSettings } from '../agents/agent-settings';
import { ExchangeRecord } from '../audit/audit-records';
import { AuditWriter } from '../audit/audit-writer.service';
import { AppConfig } from '../config/app-config';
import { LlmReplyError } from '../llm/llm-errors';
import { LlmService, TranscriptTurn } from '../llm/llm.service';
import { renderTemplate } from '../llm/prompt-template';
import { ReplyPiece, ReplyShaper, shapeCompleteText } from '../llm/reply-shaper';
import {
  InterruptDto,
  InvalidFrame,
  PartialTranscriptDto,
  PlaybackFinishedDto,
  StartCallDto,
  StreamRequestDto,
} from '../protocol/inbound-frames';
import { endCall, streamResponse, transferCall } from '../protocol/outbound-frames';
import type { CallControlAction } from '../tools/tool-context';
import { ToolLoop } from '../tools/tool-loop';
import { preciseNow } from '../common/clock';
import { AbortCause, ActiveCall, ReplyInFlight } from './active-call';
import { CallActivityFeed } from './call-activity.feed';
import { CallChannel } from './call-channel';
import { CallEventType, EndReason, ExchangeStatus } from './entities/call-status';

const STATUS_FOR_ABORT: Record<AbortCause, ExchangeStatus> = {
  interrupted: 'interrupted',
  superseded: 'superseded',
  connection_closed: 'interrupted',
  shutdown: 'interrupted',
};

/** WebSocket close code for "going away" (RFC 6455). */
const CLOSE_GOING_AWAY = 1001;

/**
 * A call's life: session, greeting, one streamed reply per stream_request, and the
 * rule that only the newest stream may speak. Every handler is synchronous up to
 * the point where the reply runs on its own, so frames are handled in arrival order.
 */
@Injectable()
export class CallService implements OnModuleDestroy {
  private readonly logger = new Logger(CallService.name);
  private readonly calls = new Set<ActiveCall>();
  private draining = false;
  private readonly turns: ToolLoop;

  constructor(
    private readonly llm: LlmService,
    private readonly audit: AuditWriter,
    private readonly config: AppConfig,
    private readonly activity: CallActivityFeed,
    @Optional() private readonly agents?: AgentProfileService,
    @Optional() toolLoop?: ToolLoop,
  ) {
    // Without the tools and agents modules (unit tests), calls run with the environment defaults and no tools.
    this.turns = toolLoop ?? new ToolLoop(llm, config, audit);
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  open(channel: CallChannel): ActiveCall {
    const call = new ActiveCall(channel);
    this.calls.add(call);
    return call;
  }

  startCall(call: ActiveCall, frame: StartCallDto): void {
    if (call.session) {
      this.recordInvalid(call, { reason: 'invalid_fields', detail: 'start_call received twice on one connection', frameType: 'start_call', received: frame, bytes: 0 });
      return;
    }
    const now = preciseNow();
    call.session = {
      sessionId: frame.session_id,
      agentId: frame.agent_id,
      callSid: frame.call_sid ?? null,
      metadata: frame.metadata ?? null,
      fromNumber: frame.voip?.from ?? null,
      toNumber: frame.voip?.to ?? null,
      status: 'active',
      endReason: null,
      startedAt: now,
      endedAt: null,
      closeCode: null,
    };
    call.promptContext = {
      ...(frame.metadata ?? {}),
      metadata: frame.metadata ?? {},
      voip: frame.voip ?? {},
      agent_id: frame.agent_id,
      session_id: frame.session_id,
      call_sid: frame.call_sid ?? null,
    };
    call.newestStreamId = frame.stream_id;
    this.audit.recordSession(call.session);
    this.activity.publish({
      type: 'call_started',
      sessionId: frame.session_id,
      agentId: frame.agent_id,
      fromNumber: call.session.fromNumber,
      toNumber: call.session.toNumber,
      metadata: call.session.metadata,
      at: now,
    });
    this.logger.debug(`call ${frame.session_id} started (agent ${frame.agent_id})`);

    const agent = this.agents?.settingsFor(frame.agent_id) ?? defaultAgentSettings(this.config, frame.agent_id);
    call.agentReady = Promise.resolve(agent);
    if (!(agent instanceof Promise)) call.agent = agent;
    else void agent.then((settings) => (call.agent = settings));

    const reply = this.beginReply(call, frame.stream_id, 'greeting', []);
    if (call.agent) this.greet(call, reply, call.agent);
    // The profile is being read (first call of this agent since boot): greet once it is known.
    else reply.done = call.agentReady.then((settings) => (reply.controller.signal.aborted ? undefined : this.greet(call, reply, settings)));
  }

  private greet(call: ActiveCall, reply: ReplyInFlight, agent: AgentSettings): Promise<void> {
    if (agent.greeting === undefined) return this.runLlmReply(call, reply, [], agent.greetingPrompt);
    this.speakCompleteText(call, reply, renderTemplate(agent.greeting, call.promptContext));
    this.finish(call, reply, 'completed');
    return Promise.resolve();
  }

  streamRequest(call: ActiveCall, frame: StreamRequestDto): void {
    if (!call.session) {
      this.recordInvalid(call, { reason: 'invalid_fields', detail: 'stream_request before start_call', frameType: 'stream_request', received: { stream_id: frame.stream_id }, bytes: 0 });
      return;
    }
    if (frame.stream_id < call.newestStreamId) {
      this.recordEvent(call, 'stale_stream_request', frame.stream_id, {
        newest_stream_id: call.newestStreamId,
        transcript: frame.transcript,
      });
      return;
    }
    if (call.current) this.abortReply(call, call.current, 'superseded');
    call.newestStreamId = frame.stream_id;
    const reply = this.beginReply(call, frame.stream_id, 'reply', frame.transcript);
    this.runLlmReply(call, reply, frame.transcript);
  }

  interrupt(call: ActiveCall, frame: InterruptDto): void {
    this.recordEvent(call, 'interrupt', frame.stream_id, { stream_id: frame.stream_id });
    if (call.current?.streamId === frame.stream_id) this.abortReply(call, call.current, 'interrupted');
  }

  partialTranscript(call: ActiveCall, frame: PartialTranscriptDto): void {
    this.recordEvent(call, 'partial_transcript', null, { ...frame });
  }

  playbackFinished(call: ActiveCall, frame: PlaybackFinishedDto): void {
    this.recordEvent(call, 'playback_finished', frame.stream_id, { ...frame });
  }

  invalidFrame(call: ActiveCall, frame: InvalidFrame): void {
    // The detail can quote what the caller said (a JSON parse error does); it is in call_events either way.
    const detail = this.config.logging.pii ? `: ${frame.detail.slice(0, 200)}` : '';
    this.logger.warn(`invalid frame on call ${call.sessionId ?? call.connectionId}: ${frame.reason}${detail}`);
    this.recordInvalid(call, frame);
  }

  /** The socket closed (the platform hung up, or we closed it). */
  close(call: ActiveCall, closeCode: number | null, reason: EndReason = 'connection_closed'): void {
    this.calls.delete(call);
    if (call.ended) return;
    call.ended = true;
    if (call.current) this.abortReply(call, call.current, reason === 'shutdown' ? 'shutdown' : 'connection_closed');
    if (!call.session) return;
    // After our end_call / transfer_call frame, the platform hanging up is the outcome we asked for.
    const endReason = reason === 'connection_closed' && call.requestedEnd ? call.requestedEnd : reason;
    call.session = { ...call.session, status: 'ended', endReason, endedAt: preciseNow(), closeCode };
    this.audit.recordSession(call.session);
    this.activity.publish({ type: 'call_ended', sessionId: call.session.sessionId, endReason, at: call.session.endedAt! });
    this.logger.debug(`call ${call.session.sessionId} ended (${endReason})`);
  }

  /** On SIGTERM: refuse new calls, let replies in flight finish within the grace period, then hang up. */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    const deadline = Date.now() + this.config.call.shutdownGraceMs;
    const inFlight = () => [...this.calls].map((c) => c.current?.done).filter((d): d is Promise<void> => !!d);
    while (inFlight().length > 0 && Date.now() < deadline) {
      await Promise.race([Promise.all(inFlight()), sleep(Math.max(0, deadline - Date.now()))]);
    }
    const open = [...this.calls];
    for (const call of open) {
      this.close(call, null, 'shutdown');
      call.channel.close(CLOSE_GOING_AWAY, 'service shutting down');
    }
    if (open.length) this.logger.log(`Closed ${open.length} call(s) for shutdown`);
  }

  private beginReply(call: ActiveCall, streamId: number, kind: ExchangeRecord['kind'], transcript: TranscriptTurn[]): ReplyInFlight {
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
      requestedAt: preciseNow(),
      firstTokenAt: null,
      completedAt: null,
      promptTokens: null,
      completionTokens: null,
      totalTokens: null,
    };
    const reply: ReplyInFlight = { streamId, exchange, controller: new AbortController(), done: Promise.resolve() };
    call.current = reply;
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

  private runLlmReply(call: ActiveCall, reply: ReplyInFlight, transcript: TranscriptTurn[], instruction?: string): Promise<void> {
    reply.exchange.model = call.agent?.model ?? this.llm.model;
    reply.done = this.streamLlmReply(call, reply, transcript, instruction).catch((error: unknown) => {
      // Nothing in a reply may take the process down; log and close the exchange.
      this.logger.error(`reply task failed on call ${call.sessionId}: ${(error as Error)?.stack ?? error}`);
      if (call.current === reply) this.finish(call, reply, 'failed', String(error));
    });
    return reply.done;
  }

  private async streamLlmReply(call: ActiveCall, reply: ReplyInFlight, transcript: TranscriptTurn[], instruction?: string): Promise<void> {
    const shaper = new ReplyShaper();
    const { signal } = reply.controller;
    const agent = call.agent ?? (await call.agentReady);
    if (signal.aborted) return;
    reply.exchange.model = agent.model;
    let control: CallControlAction | undefined;
    try {
      const chunks = this.turns.run({
        transcript,
        instruction,
        promptContext: call.promptContext,
        signal,
        agent,
        rounds: call.toolRounds,
        exchange: reply.exchange,
        call: toolCallInfo(call, reply.streamId),
        toolsAllowed: instruction === undefined,
      });
      for await (const chunk of chunks) {
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
          reply.exchange.promptTokens = chunk.usage.promptTokens;
          reply.exchange.completionTokens = chunk.usage.completionTokens;
          reply.exchange.totalTokens = chunk.usage.totalTokens;
        }
      }
      if (signal.aborted) return;
      for (const piece of shaper.end()) this.speak(call, reply, piece);
      if (control) this.carryOut(call, reply, control, agent);
      else this.endStream(call, reply);
      this.finish(call, reply, 'completed');
    } catch (error) {
      if (signal.aborted) return;
      const message = error instanceof LlmReplyError ? error.message : `unexpected: ${(error as Error)?.message}`;
      this.logger.warn(`LLM reply failed on call ${call.sessionId} stream ${reply.streamId}: ${message}`);
      this.speakFallback(call, reply, agent.fallbackMessage);
      this.finish(call, reply, 'failed', message);
    }
  }

  /** end_call: the farewell, end_of_stream, then the frame; transfer_call: end_of_stream, then the frame. */
  private carryOut(call: ActiveCall, reply: ReplyInFlight, action: CallControlAction, agent: AgentSettings): void {
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
    if (call.current !== reply || reply.controller.signal.aborted) return;
    call.requestedEnd = action.kind;
    call.channel.send(action.kind === 'end_call' ? endCall(reply.streamId) : transferCall(reply.streamId, action.destination));
    this.logger.debug(`call ${call.sessionId}: ${action.kind} sent on stream ${reply.streamId}`);
  }

  /** A space when what was already said does not end with one. */
  private separator(reply: ReplyInFlight): string {
    const sent = reply.exchange.responseText;
    return sent && !/\s$/.test(sent) ? ' ' : '';
  }

  /** Sends one piece, unless this reply has lost the right to speak. */
  private speak(call: ActiveCall, reply: ReplyInFlight, piece: ReplyPiece): void {
    if (call.current !== reply || reply.controller.signal.aborted) return;
    reply.exchange.responseText += piece.content;
    call.channel.send(streamResponse({ stream_id: reply.streamId, end_of_stream: false, ...piece }));
    if (this.activity.observed) {
      this.activity.publish({ type: 'reply_piece', sessionId: reply.exchange.sessionId, streamId: reply.streamId, content: piece.content });
    }
  }

  private endStream(call: ActiveCall, reply: ReplyInFlight): void {
    if (call.current !== reply || reply.controller.signal.aborted) return;
    call.channel.send(streamResponse({ stream_id: reply.streamId, content: '', end_of_stream: true, flush: true }));
  }

  private speakCompleteText(call: ActiveCall, reply: ReplyInFlight, text: string): void {
    reply.exchange.firstTokenAt = preciseNow();
    for (const piece of shapeCompleteText(text)) this.speak(call, reply, piece);
    this.endStream(call, reply);
  }

  /** The caller hears a short apology instead of silence; the call goes on. */
  private speakFallback(call: ActiveCall, reply: ReplyInFlight, message: string): void {
    this.speak(call, reply, { content: this.separator(reply) + message, flush: true });
    this.endStream(call, reply);
  }

  private abortReply(call: ActiveCall, reply: ReplyInFlight, cause: AbortCause): void {
    if (reply.controller.signal.aborted) return;
    reply.controller.abort(cause);
    const error = cause === 'connection_closed' ? 'connection closed' : cause === 'shutdown' ? 'service shutting down' : null;
    this.finish(call, reply, STATUS_FOR_ABORT[cause], error);
  }

  private finish(call: ActiveCall, reply: ReplyInFlight, status: ExchangeStatus, error: string | null = null): void {
    reply.exchange.status = status;
    reply.exchange.error = error;
    reply.exchange.completedAt = preciseNow();
    this.audit.recordExchange(reply.exchange);
    if (call.current === reply) call.current = null;
    const { requestedAt, firstTokenAt, completedAt } = reply.exchange;
    this.activity.publish({
      type: 'reply_finished',
      sessionId: reply.exchange.sessionId,
      streamId: reply.streamId,
      status,
      timeToFirstTokenMs: firstTokenAt ? Date.parse(firstTokenAt) - Date.parse(requestedAt) : null,
      totalMs: Date.parse(completedAt) - Date.parse(requestedAt),
      error,
      at: completedAt,
    });
  }

  private recordEvent(call: ActiveCall, type: CallEventType, streamId: number | null, payload: Record<string, unknown>): void {
    this.audit.recordEvent({ id: randomUUID(), sessionId: call.sessionId, type, streamId, payload, receivedAt: preciseNow() });
  }

  private recordInvalid(call: ActiveCall, frame: InvalidFrame): void {
    this.activity.publish({ type: 'frame_rejected', sessionId: call.sessionId, reason: frame.reason });
    this.recordEvent(call, 'invalid', null, { ...frame, connection_id: call.connectionId });
  }
}

/** What a tool may know about its call. */
function toolCallInfo(call: ActiveCall, streamId: number) {
  const { sessionId, agentId, callSid, metadata, fromNumber, toNumber } = call.session!;
  return { sessionId, agentId, streamId, callSid, metadata, fromNumber, toNumber };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
