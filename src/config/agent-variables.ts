import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { blankAsUnset, toBool, toInt } from './environment-transforms';
import { LlmVariables } from './llm-variables';

const TOOL_LIST = /^\s*[\w-]{1,64}\s*(,\s*[\w-]{1,64}\s*)*$/;
const DESTINATION_LIST = /^\s*[\w-]{1,40}=[^,=\s]+\s*(,\s*[\w-]{1,40}=[^,=\s]+\s*)*$/;

/** What agents without a profile say and may do (tools, transfers), and how long profiles stay cached. */
export class AgentVariables extends LlmVariables {
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  GREETING?: string;

  @IsString()
  GREETING_PROMPT = 'The call has just connected. Greet the caller in one short sentence and offer your help.';

  @IsString()
  @MinLength(1)
  FALLBACK_MESSAGE = "Sorry, I'm having trouble answering right now. Could you say that again?";

  @IsString()
  @MinLength(1)
  FAREWELL_MESSAGE = 'Thank you for calling. Goodbye!';

  /** Tools enabled for agents without a profile, comma-separated (e.g. "end_call,check_availability"). */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(TOOL_LIST, { message: 'AGENT_TOOLS must be a comma-separated list of tool names' })
  AGENT_TOOLS?: string;

  /** Transfer destinations for agents without a profile: "name=+15550100,support=sip:help@pbx.example.com". */
  @Transform(blankAsUnset)
  @IsOptional()
  @IsString()
  @Matches(DESTINATION_LIST, {
    message: 'TRANSFER_DESTINATIONS must look like "sales=+15550100,support=sip:help@pbx.example.com"',
  })
  TRANSFER_DESTINATIONS?: string;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(120_000)
  TOOL_TIMEOUT_MS = 5_000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  TOOL_FILLER_AFTER_MS = 400;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10)
  MAX_TOOL_ROUNDS = 4;

  /** Start replies on the caller's final partial transcript (agents without their own preemptive_replies). */
  @Transform(toBool)
  @IsBoolean()
  PREEMPTIVE_REPLIES = false;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  AGENT_PROFILE_CACHE_TTL_MS = 30_000;

  /** Agents whose settings stay cached (least recently used evicted first); callers choose agent ids freely. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  AGENT_PROFILE_CACHE_MAX = 5_000;
}
