import { ApiProperty } from '@nestjs/swagger';
import {
  ANALYSIS_STATUSES,
  SENTIMENTS,
  type AnalysisStatus,
  type Sentiment,
} from '../../call-records/call-analysis.types';

/** A call's post-call analysis (docs/call-analysis.md): what the model made of it, and what that cost. */
export class CallAnalysisDto {
  @ApiProperty({ enum: ANALYSIS_STATUSES, description: 'pending and running: asked for, not answered yet.' })
  status: AnalysisStatus;

  @ApiProperty({ type: String, nullable: true, example: 'The caller booked a check-up for Thursday at three.' })
  summary: string | null;

  @ApiProperty({ type: String, nullable: true, description: "One of the agent's outcomes.", example: 'resolved' })
  outcome: string | null;

  @ApiProperty({ enum: SENTIMENTS, nullable: true, description: "The caller's sentiment." })
  sentiment: Sentiment | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: "The agent profile's custom fields (null for a field the call did not tell).",
    example: { appointment_booked: true, order_number: null },
  })
  custom_fields: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true, description: 'The model that answered.' })
  model: string | null;

  @ApiProperty({ type: Number, nullable: true })
  prompt_tokens: number | null;

  @ApiProperty({ type: Number, nullable: true })
  completion_tokens: number | null;

  @ApiProperty({ description: 'Attempts made so far (an invalid answer is retried).' })
  attempts: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed.' })
  error: string | null;

  @ApiProperty({ format: 'date-time' })
  requested_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  started_at: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completed_at: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'From the first attempt to the answer (or the last failure).',
  })
  duration_ms: number | null;
}
