import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, Max, Min } from 'class-validator';
import { toBool, toInt } from './environment-transforms';
import { AnalysisVariables } from './analysis-variables';

/** Outgoing webhooks: how long a delivery is retried, how each attempt is bounded, which URLs are allowed. */
export class WebhookVariables extends AnalysisVariables {
  /** A delivery is retried with exponential backoff for at most this long, then it is `failed` (fractions allowed). */
  @Transform(toInt)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.001)
  @Max(720)
  WEBHOOK_MAX_DELIVERY_HOURS = 24;

  /** The first retry's delay; each next one doubles (with jitter), as pg-boss computes it. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  WEBHOOK_RETRY_DELAY_SECONDS = 30;

  /** One attempt's whole HTTP request (connect, send, answer) is cut after this long and counts as failed. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  WEBHOOK_TIMEOUT_MS = 10_000;

  /** Deliveries sent at once by one process (each waits on a receiver, not on the database). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  WEBHOOK_CONCURRENCY = 4;

  /** Allows http:// and loopback/private addresses as webhook URLs (development, tests, receivers on your own network). */
  @Transform(toBool)
  @IsBoolean()
  WEBHOOK_ALLOW_PRIVATE_URLS = false;
}
