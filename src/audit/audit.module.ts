import { Module } from '@nestjs/common';
import { CallRecordsModule } from '../call-records/call-records.module';
import { AuditWriter } from './audit-writer.service';

/** The write-behind audit of calls; modules that record or watch it import this module. */
@Module({
  imports: [CallRecordsModule],
  providers: [AuditWriter],
  exports: [AuditWriter],
})
export class AuditModule {}
