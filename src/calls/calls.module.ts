import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { LlmModule } from '../llm/llm.module';
import { ToolsModule } from '../tools/tools.module';
import { CallActivityFeed } from './call-activity.feed';
import { CallGateway } from './call.gateway';
import { CallService } from './call.service';
import { ReplyRunner } from './reply-runner';

@Module({
  imports: [LlmModule, ToolsModule, AgentsModule],
  providers: [CallGateway, CallService, ReplyRunner, CallActivityFeed],
  exports: [CallService, CallActivityFeed],
})
export class CallsModule {}
