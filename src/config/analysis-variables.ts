import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { JobVariables } from './job-variables';
import { blankAsUnset, toBool, toInt } from './environment-transforms';

/** The instructions every analysis starts with; an agent profile may add its own after them. */
export const DEFAULT_ANALYSIS_PROMPT =
  'You analyse a finished phone call between a caller and a voice agent, from its transcript. ' +
  'Write a short factual summary (one to three sentences), choose the outcome that fits best, judge the ' +
  "caller's sentiment, and fill in every field described. Use null for a field the call does not tell.";

/** Post-call analysis: off unless enabled here or in an agent's profile; its model, prompt and retries. */
export class AnalysisVariables extends JobVariables {
  /** Analyse ended calls of agents whose profile does not say (their `analysis.enabled` wins). */
  @Transform(toBool)
  @IsBoolean()
  ANALYSIS_ENABLED = false;

  /** Model asked for analyses; unset = OPENAI_MODEL. */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @MinLength(1)
  ANALYSIS_MODEL?: string;

  /** Provider (a name of LLM_PROVIDERS, or `default`) asked for analyses; unset = the first of LLM_PROVIDER_ORDER. */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(/^[\w.-]{1,40}$/, { message: 'ANALYSIS_PROVIDER must be a provider name' })
  ANALYSIS_PROVIDER?: string;

  @IsString()
  @MinLength(1)
  ANALYSIS_PROMPT = DEFAULT_ANALYSIS_PROMPT;

  /** Attempts per analysis (the model's answer may be invalid or the provider down); retried with backoff. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(20)
  ANALYSIS_MAX_ATTEMPTS = 3;

  /** Wait before the second attempt; each next one waits about twice as long (with jitter). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3_600)
  ANALYSIS_RETRY_DELAY_SECONDS = 10;

  /** Analyses one process runs at once; each waits on the model, so a few are cheap. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(50)
  ANALYSIS_CONCURRENCY = 2;
}
