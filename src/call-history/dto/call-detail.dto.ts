import { ApiProperty } from '@nestjs/swagger';
import {
  CALL_EVENT_TYPES,
  EXCHANGE_KINDS,
  EXCHANGE_STATUSES,
  type CallEventType,
  type ExchangeKind,
  type ExchangeStatus,
} from '../../call-records/call-status';
import { CallAnalysisDto } from './call-analysis.dto';
import { CallSummaryDto } from './call-summary.dto';

export class TranscriptEntryDto {
  @ApiProperty({ example: 'user', description: 'As the platform sent it: user or assistant.' })
  role: string;

  @ApiProperty({ example: 'What are your opening hours?' })
  content: string;
}

/** One stream_request (or the greeting) and the reply streamed for it. */
/** A tool the model called during the exchange, with its outcome. */
export class ToolCallDto {
  @ApiProperty()
  id: string;

  @ApiProperty({ description: 'Tool name, e.g. end_call, transfer_call, or one contributed by an extension.' })
  name: string;

  @ApiProperty({ description: 'Arguments as the model sent them (parsed JSON, or the raw text when it was not JSON).' })
  arguments: unknown;

  @ApiProperty({ enum: ['ok', 'error', 'invalid_arguments', 'timeout', 'cancelled', 'unknown_tool'] })
  status: string;

  @ApiProperty({ required: false, description: 'What the tool returned to the model.' })
  result?: unknown;

  @ApiProperty({ required: false })
  error?: string;

  @ApiProperty({ description: 'Tool round within the turn, from 1.' })
  round: number;

  @ApiProperty({ format: 'date-time' })
  started_at: string;

  @ApiProperty()
  duration_ms: number;
}

export class ExchangeDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  stream_id: number;

  @ApiProperty({ enum: EXCHANGE_KINDS })
  kind: ExchangeKind;

  @ApiProperty({ enum: EXCHANGE_STATUSES })
  status: ExchangeStatus;

  @ApiProperty({
    type: [TranscriptEntryDto],
    description: 'The transcript exactly as the platform sent it (empty for the greeting).',
  })
  transcript: TranscriptEntryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: "The caller's new utterance: the last user entry of the transcript.",
  })
  user_text: string | null;

  @ApiProperty({
    description: 'What was actually sent to the platform (cut short if interrupted, fallback message included).',
  })
  response_text: string;

  @ApiProperty({ type: String, nullable: true, description: 'LLM model; null for a static greeting.' })
  model: string | null;

  @ApiProperty({ type: String, nullable: true })
  error: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'timeout',
    description:
      'Why the reply failed, as a code to count and filter on: timeout, unreachable, upstream_error, rate_limited, ' +
      'stream_cut, unavailable, tool_rounds or unexpected. Null when it did not fail (and for replies stored before the code was).',
  })
  error_code: string | null;

  @ApiProperty({ format: 'date-time' })
  requested_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  first_token_at: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completed_at: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'first_token_at - requested_at, in milliseconds.' })
  time_to_first_token_ms: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'completed_at - requested_at, in milliseconds.' })
  total_ms: number | null;

  @ApiProperty({ type: Number, nullable: true })
  prompt_tokens: number | null;

  @ApiProperty({ type: Number, nullable: true })
  completion_tokens: number | null;

  @ApiProperty({ type: Number, nullable: true })
  total_tokens: number | null;

  @ApiProperty({ type: [ToolCallDto], description: 'Every tool call of this exchange, in order.' })
  tool_calls: ToolCallDto[];

  @ApiProperty({
    description:
      "Answered with a reply started on the caller's final partial transcript and confirmed by this stream_request.",
  })
  preemptive: boolean;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'The wait a preemptive reply saved the caller, in ms: from its start to the stream_request, or to its first token when that came first. Null unless preemptive.',
  })
  preemption_saved_ms: number | null;
}

/** A frame that is not a turn (partial transcript, playback end, interrupt, invalid or stale frame), or a discarded preemptive reply. */
export class CallEventDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: CALL_EVENT_TYPES })
  type: CallEventType;

  @ApiProperty({ type: Number, nullable: true })
  stream_id: number | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The frame as received (or its validation error).',
  })
  payload: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  received_at: string;
}

export class CallDetailDto extends CallSummaryDto {
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'start_call metadata.' })
  metadata: Record<string, unknown> | null;

  @ApiProperty({ type: Number, nullable: true, description: 'WebSocket close code of the last connection.' })
  close_code: number | null;

  @ApiProperty({
    type: CallAnalysisDto,
    nullable: true,
    description: 'The post-call analysis; null when there is none.',
  })
  analysis: CallAnalysisDto | null;

  @ApiProperty({ type: [ExchangeDto], description: 'In the order they were requested.' })
  exchanges: ExchangeDto[];

  @ApiProperty({ type: [CallEventDto], description: 'In the order they were received.' })
  events: CallEventDto[];
}
