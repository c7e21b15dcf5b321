import { Module } from '@nestjs/common';
import { CallRecordsModule } from '../call-records/call-records.module';
import { InstanceHeartbeat } from './instance-heartbeat.service';
import { ServiceInstance } from './service-instance';

/** This process among the instances sharing Postgres: its identity and its heartbeat. */
@Module({
  imports: [CallRecordsModule],
  providers: [ServiceInstance, InstanceHeartbeat],
  exports: [ServiceInstance, InstanceHeartbeat],
})
export class InstanceModule {}
