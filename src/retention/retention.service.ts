import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CallRetentionRepository, RetentionCounts } from '../call-records/call-retention.repository';
import { WebhookDeliveryRetentionRepository } from '../webhooks/webhook-delivery-retention.repository';

export type RetentionMode = AppConfig['retention']['mode'];

export interface RetentionOptions {
  dryRun?: boolean;
  /** Overrides RETENTION_DAYS / RETENTION_MODE for this run (the CLI's --days / --mode). */
  days?: number;
  mode?: RetentionMode;
}

export interface RetentionReport extends RetentionCounts {
  mode: RetentionMode;
  days: number;
  cutoff: string;
  dryRun: boolean;
  strayEvents: number;
  phoneNumbers: number;
  /** webhook_deliveries rows created before the cutoff: deleted in both modes (the log of what was sent). */
  webhookDeliveries: number;
  batches: number;
  durationMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Deletes or redacts the calls older than RETENTION_DAYS, batch by batch, and says what it did. */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    private readonly repository: CallRetentionRepository,
    private readonly webhookDeliveries: WebhookDeliveryRetentionRepository,
    private readonly config: AppConfig,
  ) {}

  /** Null when there is nothing to do: no RETENTION_DAYS, or another instance is already at it. */
  async run(options: RetentionOptions = {}): Promise<RetentionReport | null> {
    const days = options.days ?? this.config.retention.days;
    const mode = options.mode ?? this.config.retention.mode;
    if (days === undefined) {
      this.logger.log('RETENTION_DAYS is not set: every call is kept');
      return null;
    }
    const startedAt = Date.now();
    const cutoff = new Date(startedAt - days * DAY_MS);
    const report = await this.repository.whileLocked(() =>
      options.dryRun ? this.preview(mode, days, cutoff) : this.apply(mode, days, cutoff),
    );
    if (!report) {
      this.logger.log('Retention is already running on another instance; skipped');
      return null;
    }
    report.durationMs = Date.now() - startedAt;
    this.logger.log(describe(report));
    return report;
  }

  private async preview(mode: RetentionMode, days: number, cutoff: Date): Promise<RetentionReport> {
    const counts = await this.repository.preview(cutoff, mode === 'redact');
    const webhookDeliveries = await this.webhookDeliveries.countOlderThan(cutoff);
    return {
      mode,
      days,
      cutoff: cutoff.toISOString(),
      dryRun: true,
      ...counts,
      webhookDeliveries,
      batches: 0,
      durationMs: 0,
    };
  }

  private async apply(mode: RetentionMode, days: number, cutoff: Date): Promise<RetentionReport> {
    const { batchSize } = this.config.retention;
    const report: RetentionReport = {
      mode,
      days,
      cutoff: cutoff.toISOString(),
      dryRun: false,
      calls: 0,
      exchanges: 0,
      events: 0,
      strayEvents: 0,
      phoneNumbers: 0,
      webhookDeliveries: 0,
      batches: 0,
      durationMs: 0,
    };
    for (;;) {
      const done =
        mode === 'delete'
          ? await this.repository.deleteBatch(cutoff, batchSize)
          : await this.repository.redactBatch(cutoff, batchSize);
      if (done.calls === 0) break;
      report.batches += 1;
      report.calls += done.calls;
      report.exchanges += done.exchanges;
      report.events += done.events;
      if (done.calls < batchSize) break;
    }
    report.strayEvents = await drain(() => this.repository.deleteStrayEvents(cutoff, batchSize), batchSize);
    report.phoneNumbers = await drain(() => this.repository.deleteUnusedPhoneNumbers(cutoff, batchSize), batchSize);
    report.webhookDeliveries = await drain(() => this.webhookDeliveries.deleteBatch(cutoff, batchSize), batchSize);
    return report;
  }
}

async function drain(batch: () => Promise<number>, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const count = await batch();
    total += count;
    if (count < batchSize) return total;
  }
}

export function describe(report: RetentionReport): string {
  const verb = report.mode === 'delete' ? 'deleted' : 'redacted';
  const what =
    `${report.calls} call(s) with ${report.exchanges} exchange(s) and ${report.events} event(s); ` +
    `deleted ${report.strayEvents} stray event(s), ${report.phoneNumbers} unused phone number(s) ` +
    `and ${report.webhookDeliveries} webhook delivery(ies)`;
  const scope = `calls started before ${report.cutoff} (RETENTION_DAYS=${report.days}, RETENTION_MODE=${report.mode})`;
  return report.dryRun
    ? `Retention dry run, ${scope}: would have ${verb} ${what}`
    : `Retention, ${scope}: ${verb} ${what} in ${report.batches} batch(es), ${report.durationMs} ms`;
}
