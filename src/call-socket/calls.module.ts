import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { AuditModule } from '../audit/audit.module';
import { LlmModule } from '../llm/llm.module';
import { ObservabilityModule } from '../observability/observability.module';
import { ToolsModule } from '../tools/tools.module';
import { CallActivityModule } from '../call-activity/call-activity.module';
import { CallAdmission } from './call-admission.service';
import { CallMetrics } from './call-metrics';
import { CallGateway } from './call.gateway';
import { CallService } from './call.service';
import { PreemptionMetrics } from './preemption-metrics';
import { PreemptiveReplies } from './preemptive-replies';
import { ReplyRunner } from './reply-runner';

@Module({
  imports: [AuditModule, LlmModule, ToolsModule, AgentsModule, CallActivityModule, ObservabilityModule],
  providers: [CallGateway, CallService, ReplyRunner, CallAdmission, CallMetrics, PreemptiveReplies, PreemptionMetrics],
  exports: [CallService, CallAdmission],
})
export class CallsModule {}
