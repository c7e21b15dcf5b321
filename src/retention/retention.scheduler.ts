import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { describeError } from '../common/describe-error';
import { RetentionService } from './retention.service';

@Injectable()
export class RetentionScheduler {
  private readonly logger = new Logger(RetentionScheduler.name);

  constructor(private readonly retention: RetentionService) {}

  @Cron(CronExpression.EVERY_DAY_AT_3AM, { name: 'retention' })
  async runDaily(): Promise<void> {
    try {
      await this.retention.run();
    } catch (error) {
      // The next run picks up where this one stopped: every batch that committed stays done.
      this.logger.error(`Retention failed: ${describeError(error, { stack: true })}`);
    }
  }
}
