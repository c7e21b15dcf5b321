import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { toInt } from './environment-transforms';
import { ApiVariables } from './api-variables';

/** Work done after the call: the job queue's pool, how long finished jobs are kept, and the call events' dispatch. */
export class JobVariables extends ApiVariables {
  /** The job queue's own connections, so jobs never take the calls' or the audit's. */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(50)
  JOBS_DB_POOL_SIZE = 3;

  /** Finished jobs (completed or failed) stay visible in /api/jobs this long, then are deleted. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(365)
  JOBS_KEEP_DAYS = 7;

  /** How often each instance looks for calls that started or ended and whose events are not dispatched yet. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  CALL_EVENTS_POLL_MS = 1000;
}
