import 'reflect-metadata';
import { getEventListeners } from 'node:events';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { AgentSettings, defaultAgentSettings } from '../agents/agent-settings';
import { AppConfig } from '../config/app-config';
import { CallControlTools } from './built-in/call-control.tools';
import { ToolContext, ToolError } from './tool-context';
import { checkArguments, executeToolCall } from './tool-executor';
import { parametersSchema, RegisteredTool } from './tool-registry';

class PartyDto {
  @IsString() name: string;
  @IsInt() @Min(1) @Max(8) people: number;
}

function tool(
  handler: (args: object, ctx: ToolContext) => unknown,
  options: Partial<RegisteredTool['options']> = {},
): RegisteredTool {
  const opts = { name: 'reserve', description: 'Reserve a table.', parameters: PartyDto, ...options };
  return {
    options: opts,
    spec: { name: opts.name, description: opts.description, parameters: parametersSchema(opts.parameters) },
    invoke: async (a, c) => await handler(a, c),
  };
}

const agent: AgentSettings = {
  ...defaultAgentSettings(AppConfig.from({}), 'agent-1'),
  transferDestinations: [{ name: 'sales', destination: '+15550100' }],
};

function context(signal = new AbortController().signal) {
  const controls: unknown[] = [];
  return {
    controls,
    ctx: {
      signal,
      agent,
      call: {
        sessionId: 's',
        agentId: 'agent-1',
        streamId: 1,
        callSid: null,
        metadata: null,
        fromNumber: null,
        toNumber: null,
      },
      requestCallControl: (action: unknown) => controls.push(action),
    } as ToolContext,
  };
}

const call = (args: string, name = 'reserve') => ({ id: 'call_1', name, arguments: args });

describe('checkArguments', () => {
  const reserve = tool(() => undefined);

  it('accepts valid arguments and gives the handler a DTO instance', async () => {
    const checked = await checkArguments(reserve, '{"name":"Ada","people":2}');
    expect(checked).toEqual({ ok: true, value: expect.any(PartyDto) });
  });

  it.each([
    ['text that is not JSON', '{"name":', 'arguments are not valid JSON'],
    ['JSON that is not an object', '[1,2]', 'arguments must be a JSON object'],
    ['a wrong type', '{"name":"Ada","people":"two"}', 'people must be an integer number'],
    ['a value out of range', '{"name":"Ada","people":12}', 'people must not be greater than 8'],
    ['a missing property', '{"people":2}', 'name must be a string'],
    ['an unknown property', '{"name":"Ada","people":2,"vip":true}', 'property vip should not exist'],
  ])('refuses %s', async (_what, raw, message) => {
    const checked = await checkArguments(reserve, raw);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.error).toContain(message);
  });

  it('treats empty arguments as {} for a tool without parameters', async () => {
    expect(
      await checkArguments(
        tool(() => undefined, { parameters: undefined }),
        '',
      ),
    ).toEqual({ ok: true, value: {} });
  });
});

describe('executeToolCall', () => {
  const options = { timeoutMs: 50, round: 0 };

  it('returns the JSON of the result, and records the parsed arguments and the duration', async () => {
    const outcome = await executeToolCall(
      tool((args) => ({ table: 4, for: (args as PartyDto).name })),
      call('{"name":"Ada","people":2}'),
      context().ctx,
      options,
    );
    expect(outcome.content).toBe('{"table":4,"for":"Ada"}');
    expect(outcome.record).toMatchObject({
      id: 'call_1',
      name: 'reserve',
      status: 'ok',
      arguments: { name: 'Ada', people: 2 },
      result: { table: 4, for: 'Ada' },
    });
    expect(outcome.record.durationMs).toEqual(expect.any(Number));
  });

  it('turns a ToolError into an error result for the model', async () => {
    const outcome = await executeToolCall(
      tool(() => {
        throw new ToolError('fully booked');
      }),
      call('{"name":"Ada","people":2}'),
      context().ctx,
      options,
    );
    expect(outcome.content).toBe('{"error":"fully booked"}');
    expect(outcome.record.status).toBe('error');
  });

  it('times a tool out and aborts its signal', async () => {
    let toolSignal: AbortSignal | undefined;
    const outcome = await executeToolCall(
      tool((_a, ctx) => {
        toolSignal = ctx.signal;
        return new Promise(() => undefined);
      }),
      call('{"name":"Ada","people":2}'),
      context().ctx,
      options,
    );
    expect(outcome.record.status).toBe('timeout');
    expect(outcome.content).toBe('{"error":"timed out after 50 ms"}');
    expect(toolSignal?.aborted).toBe(true);
  });

  it('is cancelled at once when the turn is, with the tool told through its signal', async () => {
    const turn = new AbortController();
    let toolSignal: AbortSignal | undefined;
    const running = executeToolCall(
      tool((_a, ctx) => {
        toolSignal = ctx.signal;
        return new Promise(() => undefined);
      }),
      call('{"name":"Ada","people":2}'),
      context(turn.signal).ctx,
      { timeoutMs: 10_000, round: 1 },
    );
    await new Promise((resolve) => setImmediate(resolve));
    turn.abort('interrupted');
    const outcome = await running;
    expect(outcome.record).toMatchObject({ status: 'cancelled', round: 1 });
    expect(outcome.content).toBe('{"error":"cancelled"}');
    expect(toolSignal?.aborted).toBe(true);
  });

  it("holds no listener on the turn's signal once a call has ended, however it ended", async () => {
    const turn = new AbortController();
    const args = '{"name":"Ada","people":2}';
    await executeToolCall(
      tool(() => ({ ok: true })),
      call(args),
      context(turn.signal).ctx,
      options,
    );
    await executeToolCall(
      tool(() => {
        throw new ToolError('no');
      }),
      call(args),
      context(turn.signal).ctx,
      options,
    );
    await executeToolCall(
      tool(() => new Promise(() => undefined)),
      call(args),
      context(turn.signal).ctx,
      options,
    );
    expect(getEventListeners(turn.signal, 'abort')).toHaveLength(0);
  });

  it('answers a call to an unknown tool with an error', async () => {
    const outcome = await executeToolCall(undefined, call('{}', 'launch'), context().ctx, options);
    expect(outcome.record.status).toBe('unknown_tool');
  });
});

describe('transfer_call', () => {
  it('only accepts a configured destination name and requests the transfer to its number', () => {
    const tools = new CallControlTools();
    const { ctx, controls } = context();
    expect(tools.transferCall({ destination: 'sales' }, ctx)).toEqual({ ok: true });
    expect(controls).toEqual([{ kind: 'transfer_call', destination: '+15550100', destinationName: 'sales' }]);
    expect(() => tools.transferCall({ destination: '+15550100' }, ctx)).toThrow(ToolError);
  });
});
