import type { CallActivity } from '../call-activity/call-activity.feed';
import type { LiveCallDto, LiveEventDto, LiveTurnDto } from './dto/live-event.dto';

export const MAX_TURNS_PER_CALL = 20;
/** Text kept per turn: a live view shows a reply as it is spoken, not a document. */
export const MAX_TEXT_CHARS = 8000;

/**
 * The calls in progress as the live view sees them, folded from the call activity: what a new
 * view starts from (its snapshot), and the event each activity becomes for the views already
 * open. Plain state, no I/O: the live view of each process and the cluster's primary (which
 * hands it to a worker that joins) fold the same way.
 */
export class LiveCallsState {
  private readonly calls = new Map<string, LiveCallDto>();

  /** Applies one activity; returns the event to send to live views, if it is one they show. */
  apply(activity: CallActivity): LiveEventDto | undefined {
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
        if (turn && turn.text.length < MAX_TEXT_CHARS) turn.text = capped(turn.text + activity.content);
        return {
          type: 'reply_piece',
          session_id: activity.sessionId,
          stream_id: activity.streamId,
          content: activity.content,
        };
      }
      case 'reply_finished': {
        const text = activity.text === undefined ? undefined : capped(activity.text);
        const turn = this.turnOf(activity.sessionId, activity.streamId);
        if (turn) {
          turn.status = activity.status;
          turn.time_to_first_token_ms = activity.timeToFirstTokenMs;
          turn.total_ms = activity.totalMs;
          if (text !== undefined) turn.text = text;
        }
        return {
          type: 'reply_finished',
          session_id: activity.sessionId,
          stream_id: activity.streamId,
          status: activity.status,
          time_to_first_token_ms: activity.timeToFirstTokenMs,
          total_ms: activity.totalMs,
          ...(text === undefined ? {} : { text }),
          at: activity.at,
        };
      }
      case 'call_ended':
        this.calls.delete(activity.sessionId);
        return { type: 'call_ended', session_id: activity.sessionId, end_reason: activity.endReason, at: activity.at };
      case 'frame_rejected':
      case 'peer_lost':
        return undefined;
    }
  }

  /** A copy of the calls in progress. */
  snapshot(): LiveCallDto[] {
    return [...this.calls.values()].map((call) => ({ ...call, turns: call.turns.map((turn) => ({ ...turn })) }));
  }

  has(sessionId: string): boolean {
    return this.calls.has(sessionId);
  }

  /**
   * The activity that rebuilds this state elsewhere (a worker that joins a cluster), call by
   * call: a turn still streaming comes with its text so far as one piece.
   */
  replay(): CallActivity[] {
    const activities: CallActivity[] = [];
    for (const call of this.calls.values()) {
      const sessionId = call.session_id;
      const { agent_id: agentId, from_number: fromNumber, to_number: toNumber, started_at: at } = call;
      activities.push({ type: 'call_started', sessionId, agentId, fromNumber, toNumber, metadata: null, at });
      for (const turn of call.turns) {
        const streamId = turn.stream_id;
        activities.push({
          type: 'reply_started',
          sessionId,
          streamId,
          kind: turn.kind,
          userText: turn.user_text,
          at: turn.requested_at,
        });
        if (turn.status === 'streaming') {
          if (turn.text) activities.push({ type: 'reply_piece', sessionId, streamId, content: turn.text });
          continue;
        }
        const totalMs = turn.total_ms ?? 0;
        activities.push({
          type: 'reply_finished',
          sessionId,
          streamId,
          status: turn.status,
          timeToFirstTokenMs: turn.time_to_first_token_ms,
          totalMs,
          error: null,
          text: turn.text,
          at: new Date(Date.parse(turn.requested_at) + totalMs).toISOString(),
        });
      }
    }
    return activities;
  }

  private turnOf(sessionId: string, streamId: number): LiveTurnDto | undefined {
    const turns = this.calls.get(sessionId)?.turns;
    if (!turns) return undefined;
    for (let i = turns.length - 1; i >= 0; i--) if (turns[i].stream_id === streamId) return turns[i];
    return undefined;
  }
}

function capped(text: string): string {
  return text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text;
}
