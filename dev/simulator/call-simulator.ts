import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { webSocketText } from '../../src/common/web-socket-text';
import type { OutboundFrame } from '../../src/protocol/outbound-frames';

export interface SimulatorOptions {
  url: string;
  token?: string;
  agentId: string;
  sessionId?: string;
  callSid?: string | null;
  metadata?: Record<string, unknown> | null;
  /** Phone numbers; leave both unset for a web call. */
  from?: string;
  to?: string;
}

export interface ReplyResult {
  streamId: number;
  /** What the caller heard: the whole reply, or what arrived before an interrupt. */
  text: string;
  pieces: number;
  firstPieceMs: number | null;
  totalMs: number;
  interrupted: boolean;
  pauses: number[];
}

export interface SimulatorEvents {
  piece: [streamId: number, content: string];
  reply: [result: ReplyResult];
  control: [frame: Exclude<OutboundFrame, { type: 'stream_response' }>];
  closed: [code: number];
}

interface PendingReply {
  streamId: number;
  sentAt: number;
  firstAt: number | null;
  text: string;
  pieces: number;
  pauses: number[];
  resolve: (result: ReplyResult) => void;
}

/**
 * Plays the Millis platform's side of one call: start_call, a stream_request per user
 * turn with the whole transcript, interrupts and partial transcripts. Used by the
 * `npm run call` terminal, scripted calls and the demo.
 */
export class CallSimulator extends EventEmitter<SimulatorEvents> {
  readonly sessionId: string;
  readonly transcript: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  private socket?: WebSocket;
  private streamId = 0;
  private pending: PendingReply | null = null;
  private closedCode: number | null = null;

  constructor(private readonly options: SimulatorOptions) {
    super();
    this.sessionId = options.sessionId ?? `sim-${randomUUID()}`;
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  get replying(): boolean {
    return this.pending !== null;
  }

  async connect(): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
    const socket = new WebSocket(this.options.url, { headers });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`refused: HTTP ${res.statusCode}`)));
      socket.once('error', reject);
    });
    socket.on('message', (data) => this.onFrame(JSON.parse(webSocketText(data)) as OutboundFrame));
    socket.on('close', (code) => {
      this.closedCode = code;
      this.finishPending(true);
      this.emit('closed', code);
    });
  }

  /** Sends start_call and resolves with the greeting. */
  start(): Promise<ReplyResult> {
    const voip =
      this.options.from || this.options.to ? { from: this.options.from ?? '', to: this.options.to ?? '' } : null;
    const greeting = this.expectReply(this.streamId);
    this.send({
      type: 'start_call',
      data: {
        stream_id: this.streamId,
        agent_id: this.options.agentId,
        session_id: this.sessionId,
        call_sid: this.options.callSid ?? (voip ? `CA${randomUUID().replace(/-/g, '')}` : null),
        metadata: this.options.metadata ?? null,
        voip,
      },
    });
    return greeting;
  }

  /** A user turn: the whole transcript goes with it, as the platform sends it. */
  say(text: string): Promise<ReplyResult> {
    this.transcript.push({ role: 'user', content: text });
    this.streamId += 1;
    const reply = this.expectReply(this.streamId);
    this.send({ type: 'stream_request', data: { stream_id: this.streamId, transcript: [...this.transcript] } });
    return reply;
  }

  /**
   * A user turn timed as the platform times it: the final partial transcript, then the
   * stream_request `endpointingMs` later. A `partialText` other than `text` is a turn whose
   * final words differed from the partial (a preemptive reply must then not be heard).
   */
  async sayEndpointed(text: string, endpointingMs: number, partialText = text): Promise<ReplyResult> {
    this.partial(partialText, true);
    await new Promise((resolve) => setTimeout(resolve, endpointingMs));
    return this.say(text);
  }

  partial(text: string, isFinal = false): void {
    this.send({
      type: 'partial_transcript',
      data: { session_id: this.sessionId, transcript: text, is_final: isFinal },
    });
  }

  /** The user talks over the reply in progress. */
  interrupt(): void {
    if (!this.pending) return;
    this.send({ type: 'interrupt', stream_id: this.pending.streamId });
    this.finishPending(true);
  }

  playbackFinished(streamId: number): void {
    this.send({ type: 'playback_finished', data: { session_id: this.sessionId, stream_id: streamId } });
  }

  async hangup(): Promise<void> {
    if (!this.socket || this.closedCode !== null) return;
    const closed = new Promise<void>((resolve) => this.socket!.once('close', () => resolve()));
    this.socket.close(1000, 'hangup');
    await closed;
  }

  private expectReply(streamId: number): Promise<ReplyResult> {
    // A new request supersedes the reply in progress: the caller heard what arrived so far.
    this.finishPending(true);
    return new Promise((resolve) => {
      this.pending = { streamId, sentAt: performance.now(), firstAt: null, text: '', pieces: 0, pauses: [], resolve };
    });
  }

  private onFrame(frame: OutboundFrame): void {
    if (frame.type !== 'stream_response') {
      this.emit('control', frame);
      return;
    }
    const pending = this.pending;
    if (!pending || frame.data.stream_id !== pending.streamId) return;
    if (frame.data.content) {
      pending.firstAt ??= performance.now();
      pending.text += frame.data.content;
      pending.pieces += 1;
      this.emit('piece', pending.streamId, frame.data.content);
    }
    if (frame.data.pause) pending.pauses.push(frame.data.pause);
    if (frame.data.end_of_stream) this.finishPending(false);
  }

  private finishPending(interrupted: boolean): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    const now = performance.now();
    const result: ReplyResult = {
      streamId: pending.streamId,
      text: pending.text,
      pieces: pending.pieces,
      firstPieceMs: pending.firstAt === null ? null : pending.firstAt - pending.sentAt,
      totalMs: now - pending.sentAt,
      interrupted,
      pauses: pending.pauses,
    };
    if (result.text) this.transcript.push({ role: 'assistant', content: result.text });
    this.emit('reply', result);
    pending.resolve(result);
  }

  private send(frame: object): void {
    if (!this.isOpen)
      throw new Error(`the call is closed${this.closedCode !== null ? ` (code ${this.closedCode})` : ''}`);
    this.socket!.send(JSON.stringify(frame));
  }
}
