import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import type { AgentAnalysisProfile } from '../agent-analysis';
import { AgentAnalysisDto } from './agent-analysis.dto';

const DESTINATION = /^(\+[1-9]\d{6,14}|sips?:[^\s@]+@[^\s]+)$/;

export class TransferDestinationDto {
  @ApiProperty({ description: 'What the model chooses; the only part it sees.', example: 'sales' })
  @IsString()
  @Matches(/^[a-zA-Z0-9_-]{1,40}$/, { message: 'name must be 1 to 40 letters, digits, _ or -' })
  name: string;

  @ApiProperty({ description: 'E.164 phone number or SIP URI, sent in the transfer_call frame.', example: '+15550100' })
  @IsString()
  @Matches(DESTINATION, { message: 'destination must be an E.164 number (+15550100) or a SIP URI (sip:user@host)' })
  destination: string;

  @ApiPropertyOptional({ description: 'Shown to the model to help it choose.', example: 'new orders and quotes' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;
}

/**
 * Body of PUT /api/agents/:agentId. A field left out or null falls back to the
 * environment default (SYSTEM_PROMPT, GREETING, OPENAI_MODEL, ...); tools and
 * transfer_destinations are the profile's own (empty when left out).
 */
export class PutAgentProfileDto {
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Front desk' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description:
      'System prompt; {{metadata.x}}, {{voip.from}}, {{voip.to}}, {{agent_id}}, {{session_id}}, {{call_sid}} are filled from start_call.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(20_000)
  system_prompt?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Static greeting (same placeholders, <break time="500ms"/> allowed).',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(2_000)
  greeting?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'gpt-4o-mini' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model?: string | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: 2 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 32_000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32_000)
  max_tokens?: number | null;

  @ApiPropertyOptional({
    type: [String],
    description: 'Tools the model is offered (see GET /api/tools), e.g. end_call, transfer_call.',
    example: ['end_call'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  tools?: string[];

  @ApiPropertyOptional({ type: [TransferDestinationDto], description: 'Where transfer_call may send the caller.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => TransferDestinationDto)
  transfer_destinations?: TransferDestinationDto[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Spoken when the LLM fails.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  fallback_message?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Spoken by end_call when the model gives no farewell.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  farewell_message?: string | null;

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    description:
      'LLM providers to try in order, by name (LLM_PROVIDERS); the next answers when one fails before speaking. Null: LLM_PROVIDER_ORDER.',
    example: ['azure-east', 'groq'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @MaxLength(40, { each: true })
  providers?: string[] | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    maximum: 60_000,
    description:
      'Hedged first token: when the first provider has said nothing after this many ms, the next is asked too and whichever speaks first answers (the other is aborted). Null: LLM_HEDGE_AFTER_MS (unset: no hedging).',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(60_000)
  hedge_after_ms?: number | null;

  @ApiPropertyOptional({
    type: Boolean,
    nullable: true,
    description:
      "Preemptive replies: start the reply on the caller's final partial transcript and speak it once the stream_request confirms the same words (saves the endpointing delay; a discarded one still costs its tokens). Null: PREEMPTIVE_REPLIES.",
  })
  @IsOptional()
  @IsBoolean()
  preemptive_replies?: boolean | null;

  @ApiPropertyOptional({
    type: AgentAnalysisDto,
    nullable: true,
    description:
      'Post-call analysis of this agent\u2019s calls (docs/call-analysis.md). Null: the environment defaults.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AgentAnalysisDto)
  analysis?: AgentAnalysisDto | null;
}

/** Body of PATCH: only the fields sent change; null resets one to the environment default. */
export class PatchAgentProfileDto extends PartialType(PutAgentProfileDto) {}

export class AgentProfileDto {
  @ApiProperty({ example: 'agent-1' })
  agent_id: string;

  @ApiProperty({ type: String, nullable: true })
  name: string | null;

  @ApiProperty({ type: String, nullable: true })
  system_prompt: string | null;

  @ApiProperty({ type: String, nullable: true })
  greeting: string | null;

  @ApiProperty({ type: String, nullable: true })
  model: string | null;

  @ApiProperty({ type: Number, nullable: true })
  temperature: number | null;

  @ApiProperty({ type: Number, nullable: true })
  max_tokens: number | null;

  @ApiProperty({ type: [String] })
  tools: string[];

  @ApiProperty({ type: [TransferDestinationDto] })
  transfer_destinations: TransferDestinationDto[];

  @ApiProperty({ type: String, nullable: true })
  fallback_message: string | null;

  @ApiProperty({ type: String, nullable: true })
  farewell_message: string | null;

  @ApiProperty({ type: [String], nullable: true })
  providers: string[] | null;

  @ApiProperty({ type: Number, nullable: true })
  hedge_after_ms: number | null;

  @ApiProperty({ type: Boolean, nullable: true })
  preemptive_replies: boolean | null;

  @ApiProperty({ type: AgentAnalysisDto, nullable: true })
  analysis: AgentAnalysisProfile | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  updated_at: string;
}
