import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Min, MinLength } from 'class-validator';
import { blankAsUnset, toBool, toInt } from './environment-transforms';
import { DatabaseVariables } from './database-variables';

const CIDR_LIST = /^\s*[0-9a-fA-F.:]+(\/\d{1,3})?\s*(,\s*[0-9a-fA-F.:]+(\/\d{1,3})?\s*)*$/;

/** The call socket: who may connect, how much a call may send, how many calls at once. */
export class CallVariables extends DatabaseVariables {
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'WS_AUTH_TOKEN must be at least 16 characters' })
  WS_AUTH_TOKEN?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  WS_MAX_PAYLOAD = 1024 * 1024;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(CIDR_LIST, { message: 'WS_ALLOWED_IPS must be a comma-separated list of IPv4/IPv6 addresses or CIDRs' })
  WS_ALLOWED_IPS?: string;

  @Transform(toBool)
  @IsBoolean()
  TRUSTED_PROXY = false;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  MAX_CALLS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  WS_MAX_FRAMES_PER_SECOND = 50;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  WS_FRAME_BURST = 200;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  WS_PING_INTERVAL_MS = 15_000;

  /** Production opt-out: accept WebSocket calls with neither WS_AUTH_TOKEN nor WS_ALLOWED_IPS. */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_OPEN_WEBSOCKET = false;
}
