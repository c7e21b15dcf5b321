import { Injectable } from '@nestjs/common';
import type { AnalysisSettings } from '../agents/agent-analysis';
import type { AnalysisResult, CallForAnalysis } from '../call-records/call-analysis.types';
import { AppConfig } from '../config/app-config';
import { StructuredCompletion } from '../llm/structured-completion';
import { analysisMessages } from './analysis-prompt';
import { ANALYSIS_SCHEMA_NAME, AnalysisAnswerError, analysisSchema, AnalysisValidator } from './analysis-schema';

/** One request may take this long; an analysis is not on any call's path, so it can wait for a slow model. */
export const ANALYSIS_REQUEST_TIMEOUT_MS = 60_000;

/** Asks the model for one call's analysis and checks its answer; throws when the attempt failed. */
@Injectable()
export class CallAnalyzer {
  private readonly validator = new AnalysisValidator();

  constructor(
    private readonly config: AppConfig,
    private readonly completion: StructuredCompletion,
  ) {}

  async analyze(call: CallForAnalysis, settings: AnalysisSettings): Promise<AnalysisResult> {
    const schema = analysisSchema(settings);
    const answer = await this.completion.complete({
      provider: this.config.analysis.provider,
      model: this.config.analysis.model,
      messages: analysisMessages(this.config.analysis.prompt, settings, call),
      schemaName: ANALYSIS_SCHEMA_NAME,
      schema,
      temperature: 0,
      timeoutMs: ANALYSIS_REQUEST_TIMEOUT_MS,
    });
    if (answer.finishReason === 'length')
      throw new AnalysisAnswerError('model answer was cut at its token limit (finish_reason length)');
    const parsed = this.validator.parse(answer.content, schema);
    return {
      summary: parsed.summary,
      outcome: parsed.outcome,
      sentiment: parsed.sentiment,
      customFields: parsed.custom_fields,
      model: answer.model,
      promptTokens: answer.usage?.promptTokens ?? null,
      completionTokens: answer.usage?.completionTokens ?? null,
    };
  }
}
