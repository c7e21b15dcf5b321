import type { CallSummaryRow, ExchangeRow } from '../call-records/call-record.types';
import { buildTranscript, formatOffset, renderTranscriptText } from './call-transcript';

const START = Date.parse('2025-11-18T10:00:00Z');
const at = (ms: number) => new Date(START + ms);

const call = {
  session_id: 's-1',
  agent_id: 'support',
  from_number: '+15550100',
  to_number: null,
  started_at: at(0),
  ended_at: at(60_000),
} as CallSummaryRow;

function exchange(streamId: number, fields: Partial<ExchangeRow>): ExchangeRow {
  return {
    id: `e-${streamId}`,
    stream_id: streamId,
    kind: 'reply',
    status: 'completed',
    transcript: [],
    user_text: null,
    response_text: '',
    model: 'm',
    error: null,
    error_code: null,
    requested_at: at(streamId * 1000),
    first_token_at: at(streamId * 1000 + 100),
    completed_at: at(streamId * 1000 + 500),
    time_to_first_token_ms: 100,
    total_ms: 500,
    prompt_tokens: null,
    completion_tokens: null,
    total_tokens: null,
    tool_calls: [],
    preemptive: false,
    preemption_saved_ms: null,
    ...fields,
  };
}

describe('buildTranscript', () => {
  const transcript = buildTranscript(call, [
    exchange(0, { kind: 'greeting', response_text: 'Hello!' }),
    exchange(1, { user_text: 'First question', response_text: 'Well, the', status: 'superseded' }),
    exchange(2, { user_text: 'Second question', response_text: '', status: 'interrupted', first_token_at: null }),
    exchange(3, {
      user_text: 'Third',
      response_text: 'Sorry, say that again?',
      status: 'failed',
      first_token_at: null,
    }),
  ]);

  it('takes one caller line per request and the agent text as sent, cut-off replies marked', () => {
    expect(transcript.lines.map((l) => [l.speaker, l.text, l.interrupted, l.offset_ms])).toEqual([
      ['agent', 'Hello!', false, 100],
      ['caller', 'First question', false, 1000],
      ['agent', 'Well, the', true, 1100],
      ['caller', 'Second question', false, 2000],
      ['caller', 'Third', false, 3000],
      ['agent', 'Sorry, say that again?', false, 3000],
    ]);
  });

  it('renders plain text with offsets and marks', () => {
    expect(renderTranscriptText(transcript)).toBe(
      [
        'Call s-1 (agent support, +15550100 -> unknown), started 2025-11-18T10:00:00.000Z',
        '[0:00.100] Agent: Hello!',
        '[0:01.000] Caller: First question',
        '[0:01.100] Agent: Well, the [interrupted]',
        '[0:02.000] Caller: Second question',
        '[0:03.000] Caller: Third',
        '[0:03.000] Agent: Sorry, say that again? [LLM failed: fallback message]',
        '',
      ].join('\n'),
    );
  });

  it('formats offsets past the minute and the hour', () => {
    expect(formatOffset(61_005)).toBe('1:01.005');
    expect(formatOffset(3_600_000 + 125_250)).toBe('1:02:05.250');
  });
});
