import { Module } from '@nestjs/common';
import { ApiAuthModule } from '../auth/api-auth.module';
import { CallRecordsModule } from '../call-records/call-records.module';
import { CallExportService } from './call-export.service';
import { CallHistoryService } from './call-history.service';
import { CallsController } from './calls.controller';
import { PhoneNumbersController } from './phone-numbers.controller';
import { StatsController } from './stats.controller';

/** The read side of the call audit: REST API under /api (see docs/history-api.md). */
@Module({
  imports: [ApiAuthModule, CallRecordsModule],
  controllers: [CallsController, PhoneNumbersController, StatsController],
  providers: [CallHistoryService, CallExportService],
})
export class HistoryModule {}
