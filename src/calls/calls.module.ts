import { Module } from '@nestjs/common';
import { LlmModule } from '../llm/llm.module';
import { CallActivityFeed } from './call-activity.feed';
import { CallGateway } from './call.gateway';
import { CallService } from './call.service';

@Module({
  imports: [LlmModule],
  providers: [CallGateway, CallService, CallActivityFeed],
  exports: [CallService, CallActivityFeed],
})
export class CallsModule {}
