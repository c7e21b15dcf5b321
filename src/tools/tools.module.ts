import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { ApiAuthModule } from '../auth/api-auth.module';
import { LlmModule } from '../llm/llm.module';
import { CallControlTools } from './built-in/call-control.tools';
import { ToolLoop } from './tool-loop';
import { ToolRegistry } from './tool-registry';
import { ToolsController } from './tools.controller';

/**
 * LLM tools: the registry (every @LlmTool method of any provider), the loop that runs
 * them inside a spoken turn, and the built-in call control tools.
 */
@Module({
  imports: [DiscoveryModule, AuditModule, LlmModule, ApiAuthModule],
  controllers: [ToolsController],
  providers: [ToolRegistry, ToolLoop, CallControlTools],
  exports: [ToolRegistry, ToolLoop],
})
export class ToolsModule {}
