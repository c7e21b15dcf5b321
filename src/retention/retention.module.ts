import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CallRecordsModule } from '../call-records/call-records.module';
import { WebhookRecordsModule } from '../webhooks/webhook-records.module';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';

/** The daily retention job; `npm run retention` runs the same service once (retention.main.ts). */
@Module({
  imports: [ScheduleModule.forRoot(), CallRecordsModule, WebhookRecordsModule],
  providers: [RetentionService, RetentionScheduler],
  exports: [RetentionService],
})
export class RetentionModule {}
