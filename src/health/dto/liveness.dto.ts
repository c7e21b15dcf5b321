import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Counters only: the audit's last error names tables and indexes, so it goes to the logs, not here. */
export class AuditCountersDto {
  @ApiProperty({ description: 'Audit rows waiting to be written to Postgres.' })
  backlog: number;

  @ApiProperty({ description: 'Largest backlog since start.' })
  peakBacklog: number;

  @ApiProperty({ description: 'Audit rows written since start.' })
  rowsWritten: number;

  @ApiProperty({ description: 'Batches written since start.' })
  flushes: number;

  @ApiProperty({ description: 'Batches that failed and were retried (the reason is logged).' })
  failedFlushes: number;

  @ApiProperty({ description: 'Rows Postgres refused, written to the dead-letter file.' })
  deadLettered: number;
}

export class LivenessDto {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';

  @ApiProperty({ description: 'Open call connections on this instance.' })
  activeCalls: number;

  @ApiProperty({ description: 'True while the instance refuses new calls to shut down.' })
  draining: boolean;

  @ApiProperty({ type: AuditCountersDto })
  audit: AuditCountersDto;

  @ApiPropertyOptional({
    description:
      'With WORKERS: the slot (1 to WORKERS) of the worker that answered; the counters above are its own. Absent for one process.',
  })
  worker?: number;
}
