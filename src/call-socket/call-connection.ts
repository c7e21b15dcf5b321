import { randomUUID } from 'node:crypto';
import type { AgentLookup, AgentSettings } from '../agents/agent-settings';
import type { ExchangeRecord, SessionRecord } from '../audit/audit-records';
import type { TranscriptTurn } from '../llm/llm-reply';
import type { ToolRound } from '../llm/tool-history';
import { CallLogger } from '../observability/call-logger';
import type { InvalidFrame } from '../protocol/inbound-frames';
import { FrameRateLimiter } from './frame-rate-limiter';
import type { HeldReply } from './held-reply';
import type { EndReason } from '../call-records/call-status';

/**
 * connected -> started -> replying <-> idle -> ending -> ended.
 * `started`: start_call taken, the greeting not yet begun (the agent's profile is being read).
 * `ending`: we sent end_call / transfer_call and wait for the platform to hang up, or the
 * service is draining. Any state -> ended when the socket closes, and only then.
 */
export type CallState = 'connected' | 'started' | 'replying' | 'idle' | 'ending' | 'ended';

const NEXT: Record<CallState, readonly CallState[]> = {
  connected: ['started', 'ending', 'ended'],
  started: ['replying', 'ending', 'ended'],
  replying: ['replying', 'idle', 'ending', 'ended'],
  idle: ['replying', 'ending', 'ended'],
  // The platform may keep a call we asked to end (a transfer it could not make) and ask again.
  ending: ['replying', 'ending', 'ended'],
  ended: [],
};

/** Why an in-flight reply stopped speaking before it finished. */
export type AbortCause = 'interrupted' | 'superseded' | 'connection_closed' | 'shutdown';

/** A reply being streamed for one stream_id. */
export interface ReplyInFlight {
  readonly streamId: number;
  readonly exchange: ExchangeRecord;
  /** The transcript it answers, as the platform sent it (empty for the greeting). */
  readonly transcript: readonly TranscriptTurn[];
  readonly controller: AbortController;
  /** Resolves when the reply's task has finished, whatever the outcome. */
  done: Promise<void>;
}

/** What a connection needs of its socket; `ws`' WebSocket is one. */
export interface CallSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
  ping(): void;
  on(event: 'pong', listener: () => void): unknown;
  once(event: 'close', listener: (code: number) => void): unknown;
}

/** What the call's owner hears from its connection. */
export interface CallConnectionEvents {
  /** The socket closed: the one way a call ends. */
  connectionClosed(call: CallConnection, closeCode: number | null, reason: EndReason): void;
  /** Frames dropped over the rate limit, summarised once per window. */
  framesDropped(call: CallConnection, summary: InvalidFrame, dropped: number): void;
}

export interface ConnectionLimits {
  maxFramesPerSecond: number;
  frameBurst: number;
}

/** Dropped frames are summarised as one `invalid` row per connection and per this window. */
export const DROP_SUMMARY_WINDOW_MS = 1_000;
const OPEN = 1;

/**
 * One WebSocket connection, one call: its state and its transitions, the frame rate limit,
 * ping/pong liveness, its logger, and the one close path. CallService and ReplyRunner decide
 * what happens; this object is where it is recorded, so the rules about what may follow
 * what live in one place.
 */
export class CallConnection {
  readonly connectionId = randomUUID();
  readonly log = new CallLogger('Call');
  private currentState: CallState = 'connected';
  private callSession: SessionRecord | null = null;
  private context: Record<string, unknown> = {};
  private newest = -1;
  private inFlight: ReplyInFlight | null = null;
  private latest: ReplyInFlight | null = null;
  private held: HeldReply | null = null;
  private requested: Extract<EndReason, 'end_call' | 'transfer_call'> | null = null;
  private closeReason: EndReason = 'connection_closed';
  private agentSettings: AgentSettings | null = null;
  private agentSettingsReady: Promise<AgentSettings> = new Promise(() => undefined);
  /** Tool calls and results of this call, replayed in later turns (the transcript only holds speech). */
  readonly toolRounds: ToolRound[] = [];

  private readonly limiter: FrameRateLimiter;
  private alive = true;
  private dropped = 0;
  private droppedBytes = 0;
  private dropTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: CallSocket,
    private readonly limits: ConnectionLimits,
    private readonly events: CallConnectionEvents,
  ) {
    this.limiter = new FrameRateLimiter(limits.maxFramesPerSecond, limits.frameBurst);
    socket.on('pong', () => (this.alive = true));
    socket.once('close', (code) => this.closed(code));
  }

  get state(): CallState {
    return this.currentState;
  }

  get session(): SessionRecord | null {
    return this.callSession;
  }

  get sessionId(): string | null {
    return this.callSession?.sessionId ?? null;
  }

  get promptContext(): Record<string, unknown> {
    return this.context;
  }

  /** Newest stream_id seen; only it may speak. */
  get newestStreamId(): number {
    return this.newest;
  }

  get current(): ReplyInFlight | null {
    return this.inFlight;
  }

  /**
   * The last reply that stopped speaking: what the platform's next transcript builds on. Kept only
   * for an agent with preemptive replies (an idle call of any other agent holds no finished reply).
   */
  get lastReply(): ReplyInFlight | null {
    return this.latest;
  }

  /** A preemptive reply waiting for its stream_request, if any (at most one). */
  get preemptive(): HeldReply | null {
    return this.held;
  }

  /** Set once we sent end_call or transfer_call: the end_reason if the platform then hangs up. */
  get requestedEnd(): Extract<EndReason, 'end_call' | 'transfer_call'> | null {
    return this.requested;
  }

  /** The agent's settings once known (at once when its profile was cached). */
  get agent(): AgentSettings | null {
    return this.agentSettings;
  }

  /** Resolves to the agent's settings, whether they were known at start_call or read afterwards. */
  get agentReady(): Promise<AgentSettings> {
    return this.agentSettingsReady;
  }

  get ended(): boolean {
    return this.currentState === 'ended';
  }

  // --- transitions ---------------------------------------------------------------------

  start(session: SessionRecord, promptContext: Record<string, unknown>, streamId: number): void {
    this.moveTo('started');
    this.callSession = session;
    this.context = promptContext;
    this.newest = streamId;
    this.log.bindSession(session.sessionId);
  }

  /** The agent's settings, known now or once its profile has been read. */
  useAgent(lookup: AgentLookup): void {
    this.agentSettings = lookup.now;
    this.agentSettingsReady = lookup.ready;
    if (!lookup.now) void lookup.ready.then((known) => (this.agentSettings = known));
  }

  /** A newer stream_id arrived: from now on only it may speak. */
  advanceStream(streamId: number): void {
    this.newest = streamId;
  }

  replyBegan(reply: ReplyInFlight): void {
    this.moveTo('replying');
    this.inFlight = reply;
  }

  /** A preemptive reply is held for the next stream_request. */
  holdPreemptive(held: HeldReply): void {
    this.held = held;
  }

  /** The held preemptive reply is taken (confirmed) or discarded. */
  releasePreemptive(held: HeldReply): void {
    if (this.held === held) this.held = null;
  }

  /** The reply stopped speaking (finished, failed, or cut off); a later one may already have taken over. */
  replyEnded(reply: ReplyInFlight): void {
    if (this.inFlight !== reply) return;
    this.inFlight = null;
    this.latest = this.agentSettings?.preemptiveReplies ? reply : null;
    if (this.currentState === 'replying') this.moveTo('idle');
  }

  /** True while `reply` may still put words on the wire. */
  maySpeak(reply: ReplyInFlight): boolean {
    return this.inFlight === reply && !reply.controller.signal.aborted && this.currentState !== 'ended';
  }

  /** We asked the platform to end or transfer the call. */
  endRequested(kind: Extract<EndReason, 'end_call' | 'transfer_call'>): void {
    this.requested = kind;
    this.moveTo('ending');
  }

  /** The session as it ends, built from what the connection knows; null when start_call never came. */
  endedSession(closeCode: number | null, reason: EndReason, at: string): SessionRecord | null {
    if (!this.callSession) return null;
    // After our end_call / transfer_call, the platform hanging up is the outcome we asked for.
    const endReason = reason === 'connection_closed' && this.requested ? this.requested : reason;
    this.callSession = { ...this.callSession, status: 'ended', endReason, endedAt: at, closeCode };
    return this.callSession;
  }

  // --- the wire --------------------------------------------------------------------------

  /** Sends one serialised frame, if the socket is still open. */
  send(frame: string): void {
    if (this.socket.readyState === OPEN) this.socket.send(frame);
  }

  /**
   * Hangs up from our side and ends the call at once (at shutdown the audit is flushed
   * next, so the end cannot wait for the peer's half of the close handshake).
   */
  hangUp(code: number, reason: EndReason, text: string): void {
    if (this.currentState === 'ended') return;
    this.closeReason = reason;
    this.socket.close(code, text);
    this.closed(code);
  }

  /**
   * Every inbound frame passes here before it is parsed: it proves the peer alive and
   * spends one token of the rate limit. False = drop it unread.
   */
  admitFrame(bytes: number): boolean {
    this.alive = true;
    if (this.limiter.take()) return true;
    this.dropped += 1;
    this.droppedBytes += bytes;
    if (!this.dropTimer) {
      this.dropTimer = setTimeout(() => this.reportDrops(), DROP_SUMMARY_WINDOW_MS);
      this.dropTimer.unref();
    }
    return false;
  }

  /**
   * Called once per ping interval. A peer that answered neither the previous ping nor
   * with any frame since is gone: the socket is cut and the call ends as `peer_lost`.
   * Returns false for such a peer.
   */
  checkAlive(): boolean {
    if (this.socket.readyState !== OPEN) return true;
    if (!this.alive) {
      this.closeReason = 'peer_lost';
      this.log.warn('Peer missed a ping: connection terminated (peer_lost)');
      this.socket.terminate();
      return false;
    }
    this.alive = false;
    try {
      this.socket.ping();
    } catch {
      // The socket is closing; its close event ends the call.
    }
    return true;
  }

  private closed(code: number): void {
    this.reportDrops();
    if (this.currentState === 'ended') return;
    this.currentState = 'ended';
    this.events.connectionClosed(this, code, this.closeReason);
  }

  private reportDrops(): void {
    clearTimeout(this.dropTimer);
    this.dropTimer = undefined;
    if (this.dropped === 0) return;
    const { maxFramesPerSecond, frameBurst } = this.limits;
    const dropped = this.dropped;
    const summary: InvalidFrame = {
      reason: 'rate_limited',
      detail: `${dropped} frame(s) dropped: over ${maxFramesPerSecond} frames/s (burst ${frameBurst})`,
      received: { dropped, window_ms: DROP_SUMMARY_WINDOW_MS },
      bytes: this.droppedBytes,
    };
    this.dropped = 0;
    this.droppedBytes = 0;
    this.events.framesDropped(this, summary, dropped);
  }

  private moveTo(next: CallState): void {
    if (!NEXT[this.currentState].includes(next)) {
      throw new IllegalCallTransition(this.currentState, next);
    }
    this.currentState = next;
  }
}

/** A bug of ours, never the caller's: a transition the state machine does not allow. */
export class IllegalCallTransition extends Error {
  constructor(
    readonly from: CallState,
    readonly to: CallState,
  ) {
    super(`call cannot go from ${from} to ${to}`);
  }
}
