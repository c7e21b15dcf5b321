import { Module } from '@nestjs/common';
import { InstanceHeartbeat } from './instance-heartbeat.service';
import { ProcessRoleModule } from './process-role.module';
import { ServiceInstance } from './service-instance';

/** This process among the instances sharing Postgres: its identity and its heartbeat. */
@Module({
  imports: [ProcessRoleModule],
  providers: [ServiceInstance, InstanceHeartbeat],
  exports: [ServiceInstance, InstanceHeartbeat],
})
export class InstanceModule {}
