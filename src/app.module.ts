import { Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { CallsModule } from './calls/calls.module';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HistoryModule } from './history/history.module';
import { RetentionModule } from './retention/retention.module';

@Module({
  imports: [AppConfigModule, DatabaseModule, AuditModule, CallsModule, HealthModule, HistoryModule, RetentionModule],
})
export class AppModule {}
