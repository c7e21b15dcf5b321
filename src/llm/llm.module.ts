import { Module } from '@nestjs/common';
import { LlmClient } from './llm-client';
import { LlmProviders } from './llm-providers';
import { LlmService } from './llm.service';
import { LlmTelemetry } from './llm-telemetry';
import { OpenAiLlmClient } from './openai-llm.client';

@Module({
  providers: [{ provide: LlmClient, useClass: OpenAiLlmClient }, LlmTelemetry, LlmProviders, LlmService],
  exports: [LlmService, LlmClient, LlmProviders, LlmTelemetry],
})
export class LlmModule {}
