import type { CallSummaryRow, ExchangeRow } from '../call-records/call-record.types';
import type { CallTranscriptDto, TranscriptLineDto } from './dto/call-transcript.dto';

const CUT_OFF = new Set(['interrupted', 'superseded']);

/**
 * The conversation as it was heard. Every stream_request repeats the whole conversation,
 * so only its last user entry is new; the agent's side is what was actually sent.
 */
export function buildTranscript(call: CallSummaryRow, exchanges: ExchangeRow[]): CallTranscriptDto {
  const start = call.started_at.getTime();
  const line = (at: Date, rest: Omit<TranscriptLineDto, 'at' | 'offset_ms'>): TranscriptLineDto => ({
    at: at.toISOString(),
    offset_ms: Math.max(0, at.getTime() - start),
    ...rest,
  });
  const lines: TranscriptLineDto[] = [];
  for (const exchange of exchanges) {
    if (exchange.kind === 'reply' && exchange.user_text) {
      lines.push(
        line(exchange.requested_at, {
          speaker: 'caller',
          text: exchange.user_text,
          stream_id: exchange.stream_id,
          interrupted: false,
        }),
      );
    }
    if (exchange.response_text) {
      lines.push(
        line(exchange.first_token_at ?? exchange.requested_at, {
          speaker: 'agent',
          text: exchange.response_text,
          stream_id: exchange.stream_id,
          interrupted: CUT_OFF.has(exchange.status),
          status: exchange.status,
        }),
      );
    }
  }
  return {
    session_id: call.session_id,
    agent_id: call.agent_id,
    from_number: call.from_number,
    to_number: call.to_number,
    started_at: call.started_at.toISOString(),
    ended_at: call.ended_at?.toISOString() ?? null,
    lines,
  };
}

export function renderTranscriptText(transcript: CallTranscriptDto): string {
  const numbers = `${transcript.from_number ?? 'unknown'} -> ${transcript.to_number ?? 'unknown'}`;
  const header = `Call ${transcript.session_id} (agent ${transcript.agent_id}, ${numbers}), started ${transcript.started_at}`;
  const body = transcript.lines.map((l) => {
    const who = l.speaker === 'agent' ? 'Agent' : 'Caller';
    const mark = l.interrupted ? ' [interrupted]' : l.status === 'failed' ? ' [LLM failed: fallback message]' : '';
    return `[${formatOffset(l.offset_ms)}] ${who}: ${l.text.replace(/\s+/g, ' ').trim()}${mark}`;
  });
  return [header, ...body].join('\n') + '\n';
}

/** m:ss.mmm, or h:mm:ss.mmm past the hour. */
export function formatOffset(ms: number): string {
  const total = Math.round(ms);
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const millis = total % 1000;
  const mmss = `${String(seconds).padStart(2, '0')}.${String(millis).padStart(3, '0')}`;
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${mmss}` : `${minutes}:${mmss}`;
}
