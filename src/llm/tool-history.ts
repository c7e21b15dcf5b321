import type { ChatMessage, ToolCallRequest } from './llm-client';

/**
 * One round of tool use inside a turn: the model's tool calls and every result.
 * Millis' transcript only holds speech, so the call keeps these itself and replays
 * them in later turns at the place they happened.
 */
export interface ToolRound {
  /** Transcript entries before the turn this round belongs to: it is replayed right after them. */
  anchor: number;
  streamId: number;
  /** Text the model produced along with the calls (already spoken). */
  assistantText: string | null;
  calls: ToolCallRequest[];
  /** One per call, same order; a call that never finished has a synthetic error result. */
  results: Array<{ toolCallId: string; content: string }>;
}

export function toolRoundMessages(round: ToolRound): ChatMessage[] {
  return [
    { role: 'assistant', content: round.assistantText, toolCalls: round.calls },
    ...round.results.map((result): ChatMessage => ({
      role: 'tool',
      toolCallId: result.toolCallId,
      content: result.content,
    })),
  ];
}

/**
 * The transcript as chat messages with the tool rounds spliced in after the transcript
 * entry they followed. A round whose anchor lies beyond the transcript (the platform
 * sent a shorter conversation than before) is dropped whole, never half.
 */
export function interleaveToolRounds(transcript: ChatMessage[], rounds: readonly ToolRound[]): ChatMessage[] {
  if (rounds.length === 0) return transcript;
  const out: ChatMessage[] = [];
  for (let position = 0; position <= transcript.length; position++) {
    for (const round of rounds) if (round.anchor === position) out.push(...toolRoundMessages(round));
    if (position < transcript.length) out.push(transcript[position]);
  }
  return out;
}
