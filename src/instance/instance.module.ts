import { Module } from '@nestjs/common';
import { CallActivityModule } from '../call-activity/call-activity.module';
import { CallRecordsModule } from '../call-records/call-records.module';
import { InstanceHeartbeat } from './instance-heartbeat.service';
import { ServiceInstance } from './service-instance';

/** This process among the instances sharing Postgres: its identity and its heartbeat. */
@Module({
  imports: [CallRecordsModule, CallActivityModule],
  providers: [ServiceInstance, InstanceHeartbeat],
  exports: [ServiceInstance, InstanceHeartbeat],
})
export class InstanceModule {}
