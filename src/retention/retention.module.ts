import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { RetentionRepository } from './retention.repository';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';

/** The daily retention job; `npm run retention` runs the same service once (retention.main.ts). */
@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [RetentionRepository, RetentionService, RetentionScheduler],
  exports: [RetentionService],
})
export class RetentionModule {}
