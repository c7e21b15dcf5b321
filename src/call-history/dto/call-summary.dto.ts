import {
  ANALYSIS_STATUSES,
  SENTIMENTS,
  type AnalysisStatus,
  type Sentiment,
} from '../../call-records/call-analysis.types';
import { ApiProperty } from '@nestjs/swagger';
import { CALL_STATUSES, END_REASONS, type CallStatus, type EndReason } from '../../call-records/call-status';

/** One call in a list: a row of the call_summaries view. */
export class CallSummaryDto {
  @ApiProperty({ description: "Millis' session id: the call's key in this API.", example: 'sess_01HZX3' })
  session_id: string;

  @ApiProperty({ example: 'agent-1' })
  agent_id: string;

  @ApiProperty({ type: String, nullable: true, description: 'Telephony call id (e.g. Twilio CallSid).' })
  call_sid: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '+15550100',
    description: 'Caller number; null when unknown or redacted.',
  })
  from_number: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '+15550199',
    description: 'Called number; null when unknown or redacted.',
  })
  to_number: string | null;

  @ApiProperty({ enum: CALL_STATUSES })
  status: CallStatus;

  @ApiProperty({ enum: END_REASONS, nullable: true, description: 'Why the call ended; null while active.' })
  end_reason: EndReason | null;

  @ApiProperty({ format: 'date-time' })
  started_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  ended_at: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'ended_at - started_at in milliseconds; null while active.',
  })
  duration_ms: number | null;

  @ApiProperty({ description: 'Caller turns answered (reply exchanges; the greeting is not a turn).' })
  turn_count: number;

  @ApiProperty({ description: 'Exchanges whose LLM reply failed (the caller heard the fallback message).' })
  failed_exchanges: number;

  @ApiProperty()
  has_failures: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'First thing the caller said, on one line (200 characters at most).',
  })
  summary: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When retention redacted this call.' })
  redacted_at: string | null;

  @ApiProperty({
    enum: ANALYSIS_STATUSES,
    nullable: true,
    description: 'State of the post-call analysis; null when the call was not analysed.',
  })
  analysis_status: AnalysisStatus | null;

  @ApiProperty({ type: String, nullable: true, description: 'Outcome the analysis chose.', example: 'resolved' })
  outcome: string | null;

  @ApiProperty({ enum: SENTIMENTS, nullable: true, description: "Caller's sentiment the analysis found." })
  sentiment: Sentiment | null;
}

export class CallPageDto {
  @ApiProperty({ type: [CallSummaryDto], description: 'Newest first.' })
  items: CallSummaryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  next_cursor: string | null;
}

/** One line of the export: the list fields and the call's start_call metadata. */
export class CallExportRowDto extends CallSummaryDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'start_call metadata (a JSON string in CSV).',
  })
  metadata: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true, description: "The analysis' summary." })
  analysis_summary: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: "The analysis' custom fields (a JSON string in CSV).",
  })
  custom_fields: Record<string, unknown> | null;
}
