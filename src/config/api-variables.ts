import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { blankAsUnset, toInt } from './environment-transforms';
import { AuditVariables } from './audit-variables';

/** The HTTP API over the stored calls: its key, its queries and exports, and how long calls are kept. */
export class ApiVariables extends AuditVariables {
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'API_KEY must be at least 16 characters' })
  API_KEY?: string;

  /** Where the key made for a service started without API_KEY outside production is kept. */
  @IsString()
  @MinLength(1)
  API_KEY_FILE = './data/api-key';

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  RETENTION_DAYS?: number;

  @IsIn(['delete', 'redact'])
  RETENTION_MODE: 'delete' | 'redact' = 'delete';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  RETENTION_BATCH_SIZE = 500;

  /** Longest a history API query may run in Postgres (for an export: the longest it waits on a lock). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  HISTORY_STATEMENT_TIMEOUT_MS = 10_000;

  /** Exports running at once, each holding a pooled connection; must stay below DB_POOL_SIZE. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(99)
  EXPORT_MAX_CONCURRENT = 2;

  /** An export whose client has read nothing for this long is cut, releasing its connection. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  EXPORT_STALL_TIMEOUT_MS = 30_000;
}
