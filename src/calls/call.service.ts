import { Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AgentProfileService } from '../agents/agent-profile.service';
import { defaultAgentSettings } from '../agents/agent-settings';
import { AuditWriter } from '../audit/audit-writer.service';
import { preciseNow } from '../common/clock';
import { AppConfig } from '../config/app-config';
import {
  InterruptDto,
  InvalidFrame,
  PartialTranscriptDto,
  PlaybackFinishedDto,
  StartCallDto,
  StreamRequestDto,
} from '../protocol/inbound-frames';
import { ActiveCall } from './active-call';
import { CallActivityFeed } from './call-activity.feed';
import { CallChannel } from './call-channel';
import { CallEventType, EndReason } from './entities/call-status';
import { ReplyRunner } from './reply-runner';

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

  constructor(
    private readonly replies: ReplyRunner,
    private readonly audit: AuditWriter,
    private readonly config: AppConfig,
    private readonly activity: CallActivityFeed,
    // Without the agents module (unit tests), calls run with the environment defaults.
    @Optional() private readonly agents?: AgentProfileService,
  ) {}

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

    const reply = this.replies.begin(call, frame.stream_id, 'greeting', []);
    if (call.agent) this.replies.greet(call, reply, call.agent);
    // The profile is being read (first call of this agent since boot): greet once it is known.
    else reply.done = call.agentReady.then((settings) => (reply.controller.signal.aborted ? undefined : this.replies.greet(call, reply, settings)));
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
    if (call.current) this.replies.abort(call, call.current, 'superseded');
    call.newestStreamId = frame.stream_id;
    const reply = this.replies.begin(call, frame.stream_id, 'reply', frame.transcript);
    this.replies.runLlm(call, reply, frame.transcript);
  }

  interrupt(call: ActiveCall, frame: InterruptDto): void {
    this.recordEvent(call, 'interrupt', frame.stream_id, { stream_id: frame.stream_id });
    if (call.current?.streamId === frame.stream_id) this.replies.abort(call, call.current, 'interrupted');
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
    if (call.current) this.replies.abort(call, call.current, reason === 'shutdown' ? 'shutdown' : 'connection_closed');
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

  private recordEvent(call: ActiveCall, type: CallEventType, streamId: number | null, payload: Record<string, unknown>): void {
    this.audit.recordEvent({ id: randomUUID(), sessionId: call.sessionId, type, streamId, payload, receivedAt: preciseNow() });
  }

  private recordInvalid(call: ActiveCall, frame: InvalidFrame): void {
    this.activity.publish({ type: 'frame_rejected', sessionId: call.sessionId, reason: frame.reason });
    this.recordEvent(call, 'invalid', null, { ...frame, connection_id: call.connectionId });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
