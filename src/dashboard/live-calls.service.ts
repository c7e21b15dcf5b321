import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { CallActivity, CallActivityFeed } from '../calls/call-activity.feed';
import type { LiveCallDto, LiveEventDto, LiveTurnDto } from './dto/live-event.dto';

/** A connected live view. `send` must not block; it returns false once the client is gone or dropped. */
export interface LiveClient {
  send(chunk: string): boolean;
  close(): void;
}

const MAX_TURNS_PER_CALL = 20;
const MAX_TEXT_CHARS = 8000;

/** One SSE message. */
export function formatSse(event: LiveEventDto): string {
  const { type, ...data } = event;
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Folds the call activity feed into the calls in progress on this instance (the snapshot a
 * new live view starts from) and fans each change out to the live views. Runs inside the
 * call path (the feed is synchronous), so it never throws and never waits.
 */
@Injectable()
export class LiveCallsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LiveCallsService.name);
  private readonly calls = new Map<string, LiveCallDto>();
  private readonly clients = new Set<LiveClient>();
  private subscription: Subscription | undefined;

  constructor(private readonly feed: CallActivityFeed) {}

  onModuleInit(): void {
    this.subscription = this.feed.activity$.subscribe((activity) => {
      try {
        this.apply(activity);
      } catch (error) {
        this.logger.error(`live view update failed: ${(error as Error).message}`);
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    // Open event streams would otherwise keep the HTTP server from closing.
    for (const client of this.clients) client.close();
    this.clients.clear();
  }

  snapshot(): LiveCallDto[] {
    return [...this.calls.values()].map((call) => ({ ...call, turns: call.turns.map((turn) => ({ ...turn })) }));
  }

  /** Sends the snapshot, then every change until `remove`. */
  add(client: LiveClient): void {
    if (client.send(formatSse({ type: 'snapshot', calls: this.snapshot() }))) this.clients.add(client);
  }

  remove(client: LiveClient): void {
    this.clients.delete(client);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private apply(activity: CallActivity): void {
    const event = this.fold(activity);
    if (!event || this.clients.size === 0) return;
    const chunk = formatSse(event);
    for (const client of this.clients) {
      let delivered = false;
      try {
        delivered = client.send(chunk);
      } catch {
        delivered = false;
      }
      if (!delivered) this.clients.delete(client);
    }
  }

  private fold(activity: CallActivity): LiveEventDto | undefined {
    switch (activity.type) {
      case 'call_started': {
        const call: LiveCallDto = {
          session_id: activity.sessionId,
          agent_id: activity.agentId,
          from_number: activity.fromNumber,
          to_number: activity.toNumber,
          started_at: activity.at,
          turns: [],
        };
        this.calls.set(call.session_id, call);
        return { type: 'call_started', call: { ...call, turns: [] } };
      }
      case 'reply_started': {
        const turn: LiveTurnDto = {
          stream_id: activity.streamId,
          kind: activity.kind,
          user_text: activity.userText,
          text: '',
          status: 'streaming',
          requested_at: activity.at,
          time_to_first_token_ms: null,
          total_ms: null,
        };
        const call = this.calls.get(activity.sessionId);
        if (call) {
          call.turns.push(turn);
          if (call.turns.length > MAX_TURNS_PER_CALL) call.turns.shift();
        }
        return { type: 'reply_started', session_id: activity.sessionId, turn: { ...turn } };
      }
      case 'reply_piece': {
        const turn = this.turnOf(activity.sessionId, activity.streamId);
        if (turn && turn.text.length < MAX_TEXT_CHARS) {
          turn.text += activity.content;
          if (turn.text.length > MAX_TEXT_CHARS) turn.text = turn.text.slice(0, MAX_TEXT_CHARS);
        }
        return { type: 'reply_piece', session_id: activity.sessionId, stream_id: activity.streamId, content: activity.content };
      }
      case 'reply_finished': {
        const turn = this.turnOf(activity.sessionId, activity.streamId);
        if (turn) {
          turn.status = activity.status;
          turn.time_to_first_token_ms = activity.timeToFirstTokenMs;
          turn.total_ms = activity.totalMs;
        }
        return {
          type: 'reply_finished',
          session_id: activity.sessionId,
          stream_id: activity.streamId,
          status: activity.status,
          time_to_first_token_ms: activity.timeToFirstTokenMs,
          total_ms: activity.totalMs,
          at: activity.at,
        };
      }
      case 'call_ended':
        this.calls.delete(activity.sessionId);
        return { type: 'call_ended', session_id: activity.sessionId, end_reason: activity.endReason, at: activity.at };
      case 'frame_rejected':
        return undefined;
    }
  }

  private turnOf(sessionId: string, streamId: number): LiveTurnDto | undefined {
    const turns = this.calls.get(sessionId)?.turns;
    if (!turns) return undefined;
    for (let i = turns.length - 1; i >= 0; i--) if (turns[i].stream_id === streamId) return turns[i];
    return undefined;
  }
}
