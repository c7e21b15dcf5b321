import { Injectable, Logger, OnApplicationBootstrap, OnModuleInit, Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import { AppConfig } from '../config/app-config';
import type { ToolSpec } from '../llm/llm-client';
import { LLM_TOOL_METADATA, LlmToolOptions } from './llm-tool.decorator';
import type { ToolAgent } from './tool-agent';
import type { ToolContext } from './tool-context';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export interface RegisteredTool {
  options: LlmToolOptions;
  /** The spec every agent gets unless `forAgent` adjusts it. */
  spec: ToolSpec;
  invoke(args: object, context: ToolContext): Promise<unknown>;
}

/** The JSON schema the model sees for a parameters DTO (or an empty object schema). */
export function parametersSchema(dto: Type<object> | undefined): Record<string, unknown> {
  if (!dto) return { type: 'object', properties: {}, additionalProperties: false };
  const schema = targetConstructorToSchema(dto) as Record<string, unknown>;
  return { type: 'object', properties: {}, ...schema, additionalProperties: false };
}

/**
 * Every tool of the application: methods marked @LlmTool on any provider of any module,
 * found once at start-up, plus tools registered by hand with `register`.
 */
@Injectable()
export class ToolRegistry implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(ToolRegistry.name);
  private readonly tools = new Map<string, RegisteredTool>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      // Request-scoped providers have no single instance to call: tools must be singletons.
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const options = this.discovery.getMetadataByDecorator(LLM_TOOL_METADATA, wrapper, method);
        if (!options?.name) continue;
        const handler = (instance as Record<string, (args: object, ctx: ToolContext) => unknown>)[method].bind(
          instance,
        );
        this.register(options, handler);
      }
    }
    if (this.tools.size) this.logger.log(`LLM tools: ${[...this.tools.keys()].join(', ')}`);
  }

  /** A typo in AGENT_TOOLS would otherwise silently leave the tool off. */
  onApplicationBootstrap(): void {
    const unknown = this.config.agents.tools.filter((name) => !this.tools.has(name));
    if (unknown.length) this.logger.warn(`AGENT_TOOLS names unknown tool(s), ignored: ${unknown.join(', ')}`);
  }

  register(options: LlmToolOptions, handler: (args: object, context: ToolContext) => unknown): void {
    if (!TOOL_NAME.test(options.name)) throw new Error(`LLM tool name "${options.name}" must match ${TOOL_NAME}`);
    if (this.tools.has(options.name)) throw new Error(`Two LLM tools are named "${options.name}"`);
    this.tools.set(options.name, {
      options,
      spec: { name: options.name, description: options.description, parameters: parametersSchema(options.parameters) },
      // A handler answers with a value or a promise; either way the tool answers with a promise, a throw its rejection.
      invoke: async (args, context) => await handler(args, context),
    });
  }

  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  list(): RegisteredTool[] {
    return [...this.tools.values()];
  }

  /** The tools one agent is offered, in the order its profile lists them; unknown names are skipped. */
  specsFor(agent: ToolAgent): ToolSpec[] {
    const specs: ToolSpec[] = [];
    for (const name of agent.tools) {
      const tool = this.tools.get(name);
      if (!tool) continue;
      const spec = tool.options.forAgent ? tool.options.forAgent(structuredClone(tool.spec), agent) : tool.spec;
      if (spec) specs.push(spec);
    }
    return specs;
  }
}
