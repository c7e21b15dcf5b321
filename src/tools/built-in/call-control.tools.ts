import { Injectable } from '@nestjs/common';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { LlmTool } from '../llm-tool.decorator';
import { ToolContext, ToolError } from '../tool-context';

export class EndCallDto {
  @JSONSchema({ description: "The last sentence to say before hanging up. Omit to use the agent's farewell." })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  farewell?: string;
}

export class TransferCallDto {
  @JSONSchema({ description: 'Name of the destination, one of the listed names.' })
  @IsString()
  @MaxLength(40)
  destination: string;
}

/**
 * The built-in call control tools. An agent turns them on by listing `end_call` /
 * `transfer_call` in its tools; the frames are sent by CallService after the farewell.
 */
@Injectable()
export class CallControlTools {
  @LlmTool({
    name: 'end_call',
    description: 'Hang up the call. Use it when the caller says goodbye or the conversation is clearly over.',
    parameters: EndCallDto,
  })
  endCall(args: EndCallDto, ctx: ToolContext): { ok: true } {
    ctx.requestCallControl({ kind: 'end_call', farewell: args.farewell });
    return { ok: true };
  }

  @LlmTool({
    name: 'transfer_call',
    description: 'Transfer the caller to a person or another line.',
    parameters: TransferCallDto,
    // The model only ever sees names; the numbers stay in the agent's configuration.
    forAgent: (spec, agent) => {
      if (agent.transferDestinations.length === 0) return null;
      const names = agent.transferDestinations.map((d) => d.name);
      const listed = agent.transferDestinations
        .map((d) => (d.description ? `${d.name} (${d.description})` : d.name))
        .join(', ');
      const properties = spec.parameters.properties as Record<string, Record<string, unknown>>;
      properties.destination = { ...properties.destination, enum: names };
      return { ...spec, description: `${spec.description} Destinations: ${listed}.` };
    },
  })
  transferCall(args: TransferCallDto, ctx: ToolContext): { ok: true } {
    const target = ctx.agent.transferDestinations.find((d) => d.name === args.destination);
    if (!target) {
      throw new ToolError(
        `unknown destination "${args.destination}"; choose one of: ${ctx.agent.transferDestinations.map((d) => d.name).join(', ')}`,
      );
    }
    ctx.requestCallControl({ kind: 'transfer_call', destination: target.destination, destinationName: target.name });
    return { ok: true };
  }
}
