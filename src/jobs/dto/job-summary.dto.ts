import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

export class JobCountsDto {
  @ApiProperty({ description: 'Queued, waiting for a worker.' })
  created: number;

  @ApiProperty({ description: 'Failed an attempt; waiting for the next one (backoff).' })
  retry: number;

  @ApiProperty({ description: 'Running now.' })
  active: number;

  @ApiProperty({ description: 'Done in the last 12 hours.' })
  completed: number;

  @ApiProperty({ description: 'Cancelled in the last 12 hours.' })
  cancelled: number;

  @ApiProperty({ description: 'Out of attempts in the last 12 hours (see /api/jobs/failed).' })
  failed: number;
}

export class QueueSummaryDto {
  @ApiProperty({ example: 'webhook-delivery' })
  queue: string;

  @ApiProperty({ type: JobCountsDto })
  counts: JobCountsDto;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Oldest job still waiting.' })
  oldest_waiting_at: string | null;
}

export class FailedJobDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  queue: string;

  @ApiProperty({ description: "The job's data (ids, never secrets).", type: Object })
  data: unknown;

  @ApiProperty({ description: 'The last error (message and, for our errors, a code).', type: Object, nullable: true })
  error: unknown;

  @ApiProperty({ description: 'Retries made before it failed for good.' })
  retry_count: number;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  completed_at: string | null;
}

export class FailedJobsQueryDto {
  @ApiProperty({ required: false, description: 'Only this queue.' })
  @IsOptional()
  @IsString()
  queue?: string;

  @ApiProperty({ required: false, default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}
