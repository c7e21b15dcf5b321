import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Retention of the delivery log: rows older than the calls kept go with them (RETENTION_DAYS). */
@Injectable()
export class WebhookDeliveryRetentionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async countOlderThan(cutoff: Date): Promise<number> {
    const [row]: Array<{ count: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM webhook_deliveries WHERE created_at < $1`,
      [cutoff],
    );
    return row.count;
  }

  /** Deletes up to `batchSize` deliveries created before `cutoff`, pending ones too (their call is gone or redacted). */
  async deleteBatch(cutoff: Date, batchSize: number): Promise<number> {
    const [, affected]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, batchSize],
    );
    return affected;
  }
}
