import { ApiProperty } from '@nestjs/swagger';
import { EXCHANGE_STATUSES, type ExchangeStatus } from '../../call-records/call-status';

export const SPEAKERS = ['agent', 'caller'] as const;
export type Speaker = (typeof SPEAKERS)[number];

export class TranscriptLineDto {
  @ApiProperty({ enum: SPEAKERS })
  speaker: Speaker;

  @ApiProperty({ description: 'What was said; for the agent, what was actually sent to the platform.' })
  text: string;

  @ApiProperty({
    format: 'date-time',
    description: "Caller: when the platform sent the utterance. Agent: when the reply's first words went out.",
  })
  at: string;

  @ApiProperty({ description: 'Milliseconds since the call started.' })
  offset_ms: number;

  @ApiProperty()
  stream_id: number;

  @ApiProperty({ description: 'The agent was cut off: interrupted by the caller, or superseded by a newer request.' })
  interrupted: boolean;

  @ApiProperty({ enum: EXCHANGE_STATUSES, required: false, description: "The agent reply's exchange status." })
  status?: ExchangeStatus;
}

export class CallTranscriptDto {
  @ApiProperty()
  session_id: string;

  @ApiProperty()
  agent_id: string;

  @ApiProperty({ type: String, nullable: true })
  from_number: string | null;

  @ApiProperty({ type: String, nullable: true })
  to_number: string | null;

  @ApiProperty({ format: 'date-time' })
  started_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  ended_at: string | null;

  @ApiProperty({ type: [TranscriptLineDto], description: 'In the order they were said.' })
  lines: TranscriptLineDto[];
}
