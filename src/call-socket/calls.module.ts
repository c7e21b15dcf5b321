import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { AuditModule } from '../audit/audit.module';
import { LlmModule } from '../llm/llm.module';
import { ToolsModule } from '../tools/tools.module';
import { CallActivityFeed } from './call-activity.feed';
import { CallAdmission } from './call-admission.service';
import { CallGateway } from './call.gateway';
import { CallService } from './call.service';
import { ReplyRunner } from './reply-runner';

@Module({
  imports: [AuditModule, LlmModule, ToolsModule, AgentsModule],
  providers: [CallGateway, CallService, ReplyRunner, CallActivityFeed, CallAdmission],
  exports: [CallService, CallActivityFeed, CallAdmission],
})
export class CallsModule {}
