import { ApiProperty } from '@nestjs/swagger';

export class StatsBucketDto {
  @ApiProperty({ description: 'Calls that started in the window.' })
  calls: number;

  @ApiProperty({ description: 'Caller turns answered in those calls.' })
  turns: number;

  @ApiProperty({ description: 'Exchanges that failed.' })
  failed_exchanges: number;

  @ApiProperty({ description: 'Calls with at least one failed exchange.' })
  failed_calls: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Median LLM time to first token (ms); null without LLM replies.',
  })
  ttft_p50_ms: number | null;

  @ApiProperty({ type: Number, nullable: true, description: '95th percentile LLM time to first token (ms).' })
  ttft_p95_ms: number | null;
}

/** How many analysed calls ended with one outcome. */
export class OutcomeCountDto {
  @ApiProperty({ example: 'resolved' })
  outcome: string;

  @ApiProperty()
  calls: number;
}

export class AgentStatsDto extends StatsBucketDto {
  @ApiProperty()
  agent_id: string;

  @ApiProperty({
    type: [OutcomeCountDto],
    description: "Outcomes of this agent's analysed calls, most frequent first.",
  })
  outcomes: OutcomeCountDto[];
}

export class DayStatsDto extends StatsBucketDto {
  @ApiProperty({ format: 'date', description: 'UTC day the calls started.', example: '2025-11-18' })
  day: string;
}

export class CallStatsDto {
  @ApiProperty({ format: 'date-time' })
  from: string;

  @ApiProperty({ format: 'date-time' })
  to: string;

  @ApiProperty({ type: StatsBucketDto })
  totals: StatsBucketDto;

  @ApiProperty({
    type: [OutcomeCountDto],
    description: 'Outcomes of the analysed calls (post-call analysis), most frequent first.',
  })
  outcomes: OutcomeCountDto[];

  @ApiProperty({ type: [AgentStatsDto] })
  by_agent: AgentStatsDto[];

  @ApiProperty({ type: [DayStatsDto] })
  by_day: DayStatsDto[];
}
