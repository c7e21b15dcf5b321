import { Module } from '@nestjs/common';
import { LlmModule } from '../llm/llm.module';
import { CallGateway } from './call.gateway';
import { CallService } from './call.service';

@Module({
  imports: [LlmModule],
  providers: [CallGateway, CallService],
  exports: [CallService],
})
export class CallsModule {}
