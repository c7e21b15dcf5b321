import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AgentProfileService } from '../agents/agent-profile.service';
import { AuditWriter } from '../audit/audit-writer.service';
import { preciseNow } from '../common/clock';
import { within } from '../common/within';
import { AppConfig } from '../config/app-config';
import {
  InterruptDto,
  InvalidFrame,
  PartialTranscriptDto,
  PlaybackFinishedDto,
  StartCallDto,
  StreamRequestDto,
} from '../protocol/inbound-frames';
import { CallActivityFeed } from '../call-activity/call-activity.feed';
import { CallConnection, CallConnectionEvents, CallSocket } from './call-connection';
import { CallEventType, EndReason } from '../call-records/call-status';
import { PreemptiveReplies } from './preemptive-replies';
import { ReplyRunner } from './reply-runner';

/** WebSocket close code for "going away" (RFC 6455). */
const CLOSE_GOING_AWAY = 1001;

/**
 * A call's life: session, greeting, one streamed reply per stream_request, and the
 * rule that only the newest stream may speak. Every handler is synchronous up to
 * the point where the reply runs on its own, so frames are handled in arrival order.
 */
@Injectable()
export class CallService implements CallConnectionEvents, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CallService.name);
  private readonly calls = new Map<CallSocket, CallConnection>();
  private draining = false;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly replies: ReplyRunner,
    private readonly audit: AuditWriter,
    private readonly config: AppConfig,
    private readonly activity: CallActivityFeed,
    private readonly agents: AgentProfileService,
    private readonly preemptive: PreemptiveReplies,
  ) {}

  get activeCalls(): number {
    return this.calls.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  onModuleInit(): void {
    const interval = this.config.security.pingIntervalMs;
    if (interval === 0) return;
    this.pingTimer = setInterval(() => this.checkPeers(), interval);
    this.pingTimer.unref();
  }

  /** A new connection: a call from its first frame to its close. */
  open(socket: CallSocket): CallConnection {
    const { maxFramesPerSecond, frameBurst } = this.config.security;
    const call = new CallConnection(socket, { maxFramesPerSecond, frameBurst }, this);
    this.calls.set(socket, call);
    return call;
  }

  connectionOf(socket: CallSocket): CallConnection | undefined {
    return this.calls.get(socket);
  }

  startCall(call: CallConnection, frame: StartCallDto): void {
    if (call.state !== 'connected') {
      const detail = call.session
        ? 'start_call received twice on one connection'
        : `start_call on a ${call.state} connection`;
      this.recordInvalid(call, {
        reason: 'invalid_fields',
        detail,
        frameType: 'start_call',
        received: frame,
        bytes: 0,
      });
      return;
    }
    const now = preciseNow();
    call.start(
      {
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
      },
      {
        ...(frame.metadata ?? {}),
        metadata: frame.metadata ?? {},
        voip: frame.voip ?? {},
        agent_id: frame.agent_id,
        session_id: frame.session_id,
        call_sid: frame.call_sid ?? null,
      },
      frame.stream_id,
    );
    const session = call.session!;
    this.audit.recordSession(session);
    this.activity.publish({
      type: 'call_started',
      sessionId: session.sessionId,
      agentId: session.agentId,
      fromNumber: session.fromNumber,
      toNumber: session.toNumber,
      metadata: session.metadata,
      at: now,
    });
    call.log.debug(`call ${session.sessionId} started (agent ${session.agentId})`);

    call.useAgent(this.agents.settingsFor(frame.agent_id));

    const reply = this.replies.begin(call, frame.stream_id, 'greeting', []);
    // Never rejects (the runner records its own failures); reply.done is what shutdown waits for.
    if (call.agent) void this.replies.greet(call, reply, call.agent);
    // The profile is being read (first call of this agent since boot): greet once it is known.
    else
      reply.done = call.agentReady.then((settings) =>
        reply.controller.signal.aborted ? undefined : this.replies.greet(call, reply, settings),
      );
  }

  streamRequest(call: CallConnection, frame: StreamRequestDto): void {
    if (!call.session) {
      this.recordInvalid(call, {
        reason: 'invalid_fields',
        detail: 'stream_request before start_call',
        frameType: 'stream_request',
        received: { stream_id: frame.stream_id },
        bytes: 0,
      });
      return;
    }
    if (frame.stream_id < call.newestStreamId) {
      this.recordEvent(call, 'stale_stream_request', frame.stream_id, {
        newest_stream_id: call.newestStreamId,
        transcript: frame.transcript,
      });
      return;
    }
    // A held preemptive reply is taken when this request confirms its words, else discarded (aborted upstream).
    const confirmed = call.preemptive ? this.preemptive.take(call, frame.transcript) : null;
    if (call.current) this.replies.abort(call, call.current, 'superseded');
    call.advanceStream(frame.stream_id);
    const reply = this.replies.begin(call, frame.stream_id, 'reply', frame.transcript);
    // Never rejects (the runner records its own failures); reply.done is what shutdown waits for.
    if (confirmed) void this.replies.runPreemptive(call, reply, frame.transcript, confirmed.held, confirmed.savedMs);
    else void this.replies.runLlm(call, reply, frame.transcript);
  }

  interrupt(call: CallConnection, frame: InterruptDto): void {
    this.recordEvent(call, 'interrupt', frame.stream_id, { stream_id: frame.stream_id });
    if (call.current?.streamId === frame.stream_id) this.replies.abort(call, call.current, 'interrupted');
    if (call.preemptive) this.preemptive.discardHeld(call, 'interrupt');
  }

  partialTranscript(call: CallConnection, frame: PartialTranscriptDto): void {
    this.recordEvent(call, 'partial_transcript', null, { ...frame });
    if (frame.is_final && call.session) this.preemptive.finalPartial(call, frame.transcript);
  }

  playbackFinished(call: CallConnection, frame: PlaybackFinishedDto): void {
    this.recordEvent(call, 'playback_finished', frame.stream_id, { ...frame });
  }

  invalidFrame(call: CallConnection, frame: InvalidFrame): void {
    // The detail can quote what the caller said (a JSON parse error does); it is in call_events either way.
    const detail = this.config.logging.pii ? `: ${frame.detail.slice(0, 200)}` : '';
    call.log.warn(`invalid frame on call ${call.sessionId ?? call.connectionId}: ${frame.reason}${detail}`);
    this.recordInvalid(call, frame);
  }

  framesDropped(call: CallConnection, summary: InvalidFrame, dropped: number): void {
    this.recordInvalid(call, summary, dropped);
  }

  /** The socket closed (the platform hung up, the peer was lost, or we hung up). */
  connectionClosed(call: CallConnection, closeCode: number | null, reason: EndReason): void {
    this.calls.delete(call.socket);
    if (reason === 'peer_lost') this.activity.publish({ type: 'peer_lost', sessionId: call.sessionId });
    if (call.current) this.replies.abort(call, call.current, reason === 'shutdown' ? 'shutdown' : 'connection_closed');
    if (call.preemptive) this.preemptive.discardHeld(call, 'call_ended');
    const session = call.endedSession(closeCode, reason, preciseNow());
    if (!session) return;
    this.audit.recordSession(session);
    this.activity.publish({
      type: 'call_ended',
      sessionId: session.sessionId,
      endReason: session.endReason!,
      at: session.endedAt!,
    });
    call.log.debug(`call ${session.sessionId} ended (${session.endReason})`);
  }

  /** On SIGTERM: refuse new calls, let replies in flight finish within the grace period, then hang up. */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    clearInterval(this.pingTimer);
    const deadline = Date.now() + this.config.call.shutdownGraceMs;
    const inFlight = () => [...this.calls.values()].map((c) => c.current?.done).filter((d): d is Promise<void> => !!d);
    while (inFlight().length > 0 && Date.now() < deadline) {
      await within(Promise.all(inFlight()), deadline - Date.now());
    }
    const open = [...this.calls.values()];
    for (const call of open) call.hangUp(CLOSE_GOING_AWAY, 'shutdown', 'service shutting down');
    if (open.length) this.logger.log(`Closed ${open.length} call(s) for shutdown`);
  }

  private checkPeers(): void {
    for (const call of this.calls.values()) call.checkAlive();
  }

  private recordEvent(
    call: CallConnection,
    type: CallEventType,
    streamId: number | null,
    payload: Record<string, unknown>,
  ): void {
    this.audit.recordEvent({
      id: randomUUID(),
      sessionId: call.sessionId,
      type,
      streamId,
      payload,
      receivedAt: preciseNow(),
    });
  }

  /** `count`: how many frames the record stands for (a rate-limit summary stands for every frame it dropped). */
  private recordInvalid(call: CallConnection, frame: InvalidFrame, count = 1): void {
    this.activity.publish({ type: 'frame_rejected', sessionId: call.sessionId, reason: frame.reason, count });
    this.recordEvent(call, 'invalid', null, { ...frame, connection_id: call.connectionId });
  }
}
