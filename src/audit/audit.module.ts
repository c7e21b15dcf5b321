import { Global, Module } from '@nestjs/common';
import { AuditWriter } from './audit-writer.service';
import { AuditRepository } from './audit.repository';

@Global()
@Module({
  providers: [AuditRepository, AuditWriter],
  exports: [AuditWriter],
})
export class AuditModule {}
