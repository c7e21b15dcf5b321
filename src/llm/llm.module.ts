import { Module } from '@nestjs/common';
import { LlmClient } from './llm-client';
import { LlmService } from './llm.service';
import { OpenAiLlmClient } from './openai-llm.client';

@Module({
  providers: [{ provide: LlmClient, useClass: OpenAiLlmClient }, LlmService],
  exports: [LlmService, LlmClient],
})
export class LlmModule {}
