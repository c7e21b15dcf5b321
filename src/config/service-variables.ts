import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { blankAsUnset, toBool, toInt } from './environment-transforms';

/** WORKERS: a whole number, or `auto` (any case) for the number of cores. */
const toWorkers = ({ value }: { value: unknown }) =>
  value === undefined || value === ''
    ? undefined
    : typeof value === 'string' && /^\s*auto\s*$/i.test(value)
      ? 'auto'
      : Number(value);
const WORKERS_MESSAGE = { message: 'WORKERS must be a whole number from 1 to 1024, or auto' };

/**
 * The process itself: where it listens, how it logs, its metrics and instance name, how many
 * workers it runs and how long it gives calls to end on shutdown.
 */
export class ServiceVariables {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL = 'log';

  /** Unset = one process. A number or `auto` (the available cores) = that many node:cluster workers under a supervising primary. */
  @Transform(toWorkers)
  @IsOptional()
  @ValidateIf((env: ServiceVariables) => env.WORKERS !== 'auto')
  @IsInt(WORKERS_MESSAGE)
  @Min(1, WORKERS_MESSAGE)
  @Max(1024, WORKERS_MESSAGE)
  WORKERS?: number | 'auto';

  /** Set by the primary (WORKERS) on each worker it forks: the worker's place, 1 to WORKERS, kept by its replacement. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  CLUSTER_WORKER_SLOT?: number;

  /** auto = pretty on a terminal outside production, JSON lines otherwise. */
  @IsIn(['auto', 'json', 'pretty'])
  LOG_FORMAT: 'auto' | 'json' | 'pretty' = 'auto';

  @Transform(toBool)
  @IsBoolean()
  LOG_PII = false;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  NODE_ENV?: string;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  /** Agent ids with their own metric series (callers choose agent ids freely); the rest are `other`. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  METRICS_MAX_AGENT_LABELS = 50;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  INSTANCE_NAME?: string;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  INSTANCE_HEARTBEAT_MS = 5_000;

  /**
   * How long an instance must be silent (no heartbeat) before another may close its calls as
   * 'crashed', and only if Postgres has no connection of it either. Never less than 3 heartbeats.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  @Max(86_400_000)
  INSTANCE_TAKEOVER_AFTER_MS = 120_000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  SHUTDOWN_GRACE_MS = 10_000;
}
