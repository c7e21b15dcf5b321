import type { Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { ToolSpec } from '../llm/llm-client';
import type { ToolAgent } from './tool-agent';

export interface LlmToolOptions {
  /** What the model calls it: letters, digits, `_` and `-`, unique across the application. */
  name: string;
  /** Tells the model when to use the tool; write it for the model, not for people. */
  description: string;
  /**
   * A class-validator DTO: the single source of the JSON schema sent to the model and of
   * the validation of its arguments. Omit for a tool without arguments.
   */
  parameters?: Type<object>;
  /** Spoken (flush: true) when the tool has not answered within TOOL_FILLER_AFTER_MS. */
  filler?: string;
  /** Overrides TOOL_TIMEOUT_MS for this tool. */
  timeoutMs?: number;
  /**
   * Adjusts what one agent is offered (e.g. an enum of its destinations), or hides the
   * tool from that agent by returning null.
   */
  forAgent?: (spec: ToolSpec, agent: ToolAgent) => ToolSpec | null;
}

const LlmToolMetadata = DiscoveryService.createDecorator<LlmToolOptions>();
export const LLM_TOOL_METADATA = LlmToolMetadata;

/**
 * Makes a provider method a tool the LLM can call. The method receives the validated
 * DTO instance and a ToolContext, and returns anything JSON-serialisable (sent back to
 * the model); throwing a ToolError sends its message back instead.
 *
 * ```ts
 * @LlmTool({ name: 'check_availability', description: '...', parameters: CheckAvailabilityDto })
 * check(args: CheckAvailabilityDto, ctx: ToolContext) { ... }
 * ```
 */
export function LlmTool(options: LlmToolOptions): MethodDecorator {
  return LlmToolMetadata(options);
}
