import 'reflect-metadata';
import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';
import { IsString } from 'class-validator';
import { AppConfig } from '../config/app-config';
import { CallControlTools } from './built-in/call-control.tools';
import { LlmTool } from './llm-tool.decorator';
import type { ToolAgent } from './tool-agent';
import { ToolRegistry } from './tool-registry';

class LookUpDto {
  @IsString()
  query: string;
}

@Injectable()
class SampleTools {
  @LlmTool({ name: 'look_up', description: 'Looks something up.', parameters: LookUpDto, filler: 'One moment.' })
  lookUp(args: LookUpDto): { found: string } {
    return { found: args.query };
  }

  @LlmTool({ name: 'staff_only', description: 'Hidden from agents without staff.', forAgent: () => null })
  staffOnly(): { ok: true } {
    return { ok: true };
  }

  /** Not a tool: no decorator. */
  helper(): void {}
}

const agent = (overrides: Partial<ToolAgent> = {}): ToolAgent => ({
  agentId: 'agent-1',
  tools: [],
  transferDestinations: [],
  ...overrides,
});

describe('ToolRegistry', () => {
  let moduleRef: TestingModule;
  let registry: ToolRegistry;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule],
      providers: [
        ToolRegistry,
        SampleTools,
        CallControlTools,
        { provide: AppConfig, useValue: AppConfig.from({ AGENT_TOOLS: 'look_up' }) },
      ],
    }).compile();
    await moduleRef.init();
    registry = moduleRef.get(ToolRegistry);
  });

  afterEach(() => moduleRef.close());

  it('finds every @LlmTool method of every provider at start-up, and nothing else', () => {
    expect(registry.names.sort()).toEqual(['end_call', 'look_up', 'staff_only', 'transfer_call']);
    expect(registry.get('helper')).toBeUndefined();
    expect(registry.get('look_up')?.options.filler).toBe('One moment.');
  });

  it('describes the arguments with the JSON schema of the parameters DTO, refusing unknown properties', () => {
    expect(registry.get('look_up')?.spec).toEqual({
      name: 'look_up',
      description: 'Looks something up.',
      parameters: expect.objectContaining({
        type: 'object',
        properties: { query: expect.objectContaining({ type: 'string' }) },
        required: ['query'],
        additionalProperties: false,
      }),
    });
    expect(registry.get('staff_only')?.spec.parameters).toEqual({
      type: 'object',
      properties: {},
      additionalProperties: false,
    });
  });

  it('calls the method on its provider instance', async () => {
    const tool = registry.get('look_up')!;
    const context = {
      signal: new AbortController().signal,
      call: {
        sessionId: 's',
        agentId: 'agent-1',
        streamId: 1,
        callSid: null,
        metadata: null,
        fromNumber: null,
        toNumber: null,
      },
      agent: agent(),
      requestCallControl: () => undefined,
    };
    await expect(tool.invoke({ query: 'hours' }, context)).resolves.toEqual({ found: 'hours' });
  });

  it('refuses a tool name the model could not call, and two tools with one name', () => {
    expect(() => registry.register({ name: 'has space', description: 'x' }, () => undefined)).toThrow(/must match/);
    expect(() => registry.register({ name: 'look_up', description: 'again' }, () => undefined)).toThrow(
      'Two LLM tools are named "look_up"',
    );
  });

  it('offers an agent its tools in the order its profile lists them, skipping unknown and hidden ones', () => {
    registry.register({ name: 'by_hand', description: 'Registered by hand.' }, () => 'ok');

    const specs = registry.specsFor(agent({ tools: ['by_hand', 'no_such_tool', 'staff_only', 'look_up'] }));

    expect(specs.map((s) => s.name)).toEqual(['by_hand', 'look_up']);
  });

  it("adjusts a tool per agent without changing what other agents see (transfer_call lists the agent's destinations)", () => {
    const withLines = agent({
      tools: ['transfer_call'],
      transferDestinations: [{ name: 'sales', destination: '+15550100', description: 'new orders' }],
    });

    const [spec] = registry.specsFor(withLines);

    expect(spec.description).toContain('Destinations: sales (new orders).');
    expect((spec.parameters.properties as Record<string, { enum?: string[] }>).destination.enum).toEqual(['sales']);
    expect(registry.specsFor(agent({ tools: ['transfer_call'] }))).toEqual([]);
    expect(registry.get('transfer_call')?.spec.description).not.toContain('Destinations');
  });
});
