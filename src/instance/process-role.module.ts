import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ProcessRole } from './process-role';

@Module({
  providers: [{ provide: ProcessRole, inject: [AppConfig], useFactory: (config: AppConfig) => ProcessRole.of(config) }],
  exports: [ProcessRole],
})
export class ProcessRoleModule {}
