import { Transform } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { toInt } from './environment-transforms';
import { AgentVariables } from './agent-variables';

/** The write-behind audit: batching, the bounds that refuse new calls, its pool and its dead letters. */
export class AuditVariables extends AgentVariables {
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  AUDIT_FLUSH_INTERVAL_MS = 200;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUDIT_BATCH_SIZE = 2000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  AUDIT_MAX_BACKLOG = 500_000;

  /** Past this estimated size of the queued rows, as past AUDIT_MAX_BACKLOG rows, new calls are refused. */
  @Transform(toInt)
  @IsInt()
  @Min(64 * 1024)
  AUDIT_MAX_BACKLOG_BYTES = 256 * 1024 * 1024;

  /** Largest estimated size of one statement's rows: far below Postgres' 256 MB jsonb and 1 GB parameter limits. */
  @Transform(toInt)
  @IsInt()
  @Min(64 * 1024)
  @Max(64 * 1024 * 1024)
  AUDIT_BATCH_BYTES = 8 * 1024 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  AUDIT_STALL_MS = 30_000;

  /** The audit's own connections, never shared with readers (DB_POOL_SIZE). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(20)
  AUDIT_DB_POOL_SIZE = 2;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  AUDIT_SHUTDOWN_FLUSH_MS = 30_000;

  @IsString()
  AUDIT_DEAD_LETTER_FILE = './data/audit-dead-letter.ndjson';
}
