import { Module } from '@nestjs/common';
import { ApiAuthModule } from '../auth/api-auth.module';
import { ClusterBusModule } from '../cluster-bus/cluster-bus.module';
import { ToolsModule } from '../tools/tools.module';
import { AgentProfileRepository } from './agent-profile.repository';
import { AgentProfileService } from './agent-profile.service';
import { AgentsController } from './agents.controller';

/** Per-agent configuration: agent_profiles, /api/agents, and the cached settings calls start with. */
@Module({
  imports: [ApiAuthModule, ToolsModule, ClusterBusModule],
  controllers: [AgentsController],
  providers: [AgentProfileRepository, AgentProfileService],
  exports: [AgentProfileService],
})
export class AgentsModule {}
