import { Transform } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { blankAsUnset, toInt } from './environment-transforms';
import { CallVariables } from './call-variables';
import type { LlmProviderConfig } from './llm-provider-config';

const NAME_LIST = /^\s*[\w.-]{1,40}\s*(,\s*[\w.-]{1,40}\s*)*$/;

/** The model: the default provider (OPENAI_*), named providers, timeouts, hedging and circuits. */
export class LlmVariables extends CallVariables {
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  OPENAI_API_KEY?: string;

  @Transform(blankAsUnset)
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  OPENAI_BASE_URL?: string;

  @IsString()
  OPENAI_MODEL = 'gpt-4o-mini';

  @IsString()
  SYSTEM_PROMPT =
    'You are a friendly, concise voice assistant on a phone call. Answer in one to three short spoken sentences, without lists or markup.';

  @Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)))
  @IsNumber()
  @Min(0)
  @Max(2)
  LLM_TEMPERATURE = 0.7;

  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(1)
  LLM_MAX_TOKENS?: number = 400;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  LLM_TIMEOUT_MS = 10_000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  LLM_IDLE_TIMEOUT_MS = 10_000;

  /** Named providers as a JSON array (see llm-provider-config.ts); or LLM_PROVIDER_<n>_* variables. */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  LLM_PROVIDERS?: string;

  /** Failover order of agents without their own list; unset = every provider, `default` first. */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(NAME_LIST, { message: 'LLM_PROVIDER_ORDER must be a comma-separated list of provider names' })
  LLM_PROVIDER_ORDER?: string;

  /** Agents without a profile start the next provider when the first has said nothing after this (ms); unset = no hedging. */
  @Transform(toInt)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(60_000)
  LLM_HEDGE_AFTER_MS?: number;

  /** Consecutive failures that open a provider's circuit (skipped until LLM_CIRCUIT_OPEN_MS has passed); 0 = no circuit breaker. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000)
  LLM_CIRCUIT_FAILURES = 5;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  LLM_CIRCUIT_OPEN_MS = 30_000;

  /** Not a variable: the providers validateEnvironment reads from LLM_PROVIDERS / LLM_PROVIDER_<n>_* and OPENAI_*. */
  llmProviders: LlmProviderConfig[] = [];

  /** Not a variable: LLM_PROVIDER_ORDER resolved against the providers. */
  llmProviderOrder: string[] = [];
}
