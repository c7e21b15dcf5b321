import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { blankAsUnset, toBool, toInt } from './environment-transforms';
import { ServiceVariables } from './service-variables';

/** Postgres: an external server (DATABASE_URL) or the embedded one, and the readers' pool. */
export class DatabaseVariables extends ServiceVariables {
  @Transform(blankAsUnset)
  @IsOptional()
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL?: string;

  @IsString()
  EMBEDDED_DB_DIR = './data/postgres';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  DB_POOL_SIZE = 10;

  /** Production opt-out: run on the embedded database although NODE_ENV=production. */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_EMBEDDED_DATABASE = false;
}
