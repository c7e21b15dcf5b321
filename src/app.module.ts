import { Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { CallsModule } from './calls/calls.module';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';

@Module({
  imports: [AppConfigModule, DatabaseModule, AuditModule, CallsModule],
})
export class AppModule {}
