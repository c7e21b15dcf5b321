import { IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Max, Min } from 'class-validator';
import { NestedFrame } from './frame-instance';

/**
 * Frames the Millis platform sends us, as class-validator DTOs.
 * Shapes and the choices behind them: docs/protocol.md; every wire detail lives in this folder.
 */

/** stream_id is stored as a Postgres int: a larger one is an invalid frame, not a row Postgres refuses. */
export const MAX_STREAM_ID = 2_147_483_647;

export const INBOUND_FRAME_TYPES = [
  'start_call',
  'stream_request',
  'partial_transcript',
  'playback_finished',
  'interrupt',
] as const;
export type InboundFrameType = (typeof INBOUND_FRAME_TYPES)[number];

export const TRANSCRIPT_ROLES = ['user', 'assistant'] as const;
export type TranscriptRole = (typeof TRANSCRIPT_ROLES)[number];

export class VoipDto {
  @IsString()
  from: string;

  @IsString()
  to: string;
}

export class StartCallDto {
  @IsInt()
  @Min(0)
  @Max(MAX_STREAM_ID)
  stream_id: number;

  @IsString()
  @IsNotEmpty()
  agent_id: string;

  @IsString()
  @IsNotEmpty()
  session_id: string;

  @IsOptional()
  @IsString()
  call_sid?: string | null;

  /** Whatever the caller's app passed, kept exactly as received (any keys, any depth). */
  @IsOptional()
  @IsObject()
  metadata?: Record<string, unknown> | null;

  /** IsObject: ValidateNested alone lets an array of VoipDto (or an empty one) through. */
  @IsOptional()
  @IsObject()
  @NestedFrame(() => VoipDto)
  voip?: VoipDto | null;
}

export class TranscriptEntryDto {
  @IsIn(TRANSCRIPT_ROLES)
  role: TranscriptRole;

  @IsString()
  content: string;
}

export class StreamRequestDto {
  @IsInt()
  @Min(0)
  @Max(MAX_STREAM_ID)
  stream_id: number;

  /** IsObject each: ValidateNested alone lets nested arrays (`[[]]`) through as entries. */
  @IsArray()
  @IsObject({ each: true })
  @NestedFrame(() => TranscriptEntryDto)
  transcript: TranscriptEntryDto[];
}

export class PartialTranscriptDto {
  @IsOptional()
  @IsString()
  session_id?: string;

  @IsString()
  transcript: string;

  @IsBoolean()
  is_final: boolean;
}

export class PlaybackFinishedDto {
  @IsOptional()
  @IsString()
  session_id?: string;

  @IsInt()
  @Min(0)
  @Max(MAX_STREAM_ID)
  stream_id: number;
}

export class InterruptDto {
  @IsInt()
  @Min(0)
  @Max(MAX_STREAM_ID)
  stream_id: number;
}

export const INBOUND_FRAME_DTOS = {
  start_call: StartCallDto,
  stream_request: StreamRequestDto,
  partial_transcript: PartialTranscriptDto,
  playback_finished: PlaybackFinishedDto,
  interrupt: InterruptDto,
} as const satisfies Record<InboundFrameType, new () => object>;

/** Why a frame could not be used; stored in call_events.payload.reason. */
export type InvalidFrameReason =
  | 'binary_frame'
  | 'too_large'
  | 'not_json'
  | 'not_an_object'
  | 'unknown_type'
  | 'invalid_fields'
  /** A summary of frames dropped over WS_MAX_FRAMES_PER_SECOND (one row per connection and second). */
  | 'rate_limited';

export interface InvalidFrame {
  reason: InvalidFrameReason;
  /** Human-readable detail: the parse error or the failed constraints. */
  detail: string;
  /** Frame type when one could be read. */
  frameType?: string;
  /** What was received, truncated so a huge frame cannot bloat the audit. */
  received: unknown;
  bytes: number;
}

/** What the message parser hands the gateway: a typed frame or an invalid one. */
export type ParsedFrame =
  | { event: 'start_call'; data: StartCallDto }
  | { event: 'stream_request'; data: StreamRequestDto }
  | { event: 'partial_transcript'; data: PartialTranscriptDto }
  | { event: 'playback_finished'; data: PlaybackFinishedDto }
  | { event: 'interrupt'; data: InterruptDto }
  | { event: 'invalid'; data: InvalidFrame };
