import { Module } from '@nestjs/common';
import { LlmClient } from './llm-client';
import { LLM_CLIENT_FACTORY, LlmProviders, openAiCompatibleClients } from './llm-providers';
import { LlmService } from './llm.service';
import { LlmTelemetry } from './llm-telemetry';
import { OpenAiLlmClient } from './openai-llm.client';
import { StructuredCompletion } from './structured-completion';

@Module({
  providers: [
    { provide: LlmClient, useClass: OpenAiLlmClient },
    { provide: LLM_CLIENT_FACTORY, useValue: openAiCompatibleClients },
    LlmTelemetry,
    LlmProviders,
    LlmService,
    StructuredCompletion,
  ],
  exports: [LlmService, LlmClient, LlmProviders, LlmTelemetry, StructuredCompletion],
})
export class LlmModule {}
