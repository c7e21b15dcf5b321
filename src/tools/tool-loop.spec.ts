import 'reflect-metadata';
import { Injectable, Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { FedLlmClient, FedStream } from '../../test/support/call-fakes';
import { defaultAgentSettings } from '../agents/agent-settings';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { LlmClient } from '../llm/llm-client';
import { LlmReplyError } from '../llm/llm-errors';
import type { ToolRound } from '../llm/tool-history';
import { LlmTool } from './llm-tool.decorator';
import { ToolLoop, TurnEvent, TurnRequest } from './tool-loop';
import { ToolsModule } from './tools.module';

const FILLER_AFTER_MS = 400;

/** A tool that answers when the test lets it go. */
@Injectable()
class SlowTools {
  release: (() => void) | undefined;

  @LlmTool({ name: 'look_up', description: 'Looks something up, slowly.', filler: 'One moment.' })
  lookUp(): Promise<{ found: boolean }> {
    return new Promise((resolve) => (this.release = () => resolve({ found: true })));
  }
}

/** Lets the turn run until it waits on the model or a tool again. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('ToolLoop', () => {
  let moduleRef: TestingModule;
  let client: FedLlmClient;
  let loop: ToolLoop;
  let tools: SlowTools;
  let config: AppConfig;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    config = AppConfig.from({
      OPENAI_MODEL: 'test-model',
      AGENT_TOOLS: 'look_up,end_call',
      MAX_TOOL_ROUNDS: '2',
      TOOL_FILLER_AFTER_MS: String(FILLER_AFTER_MS),
    });
    client = new FedLlmClient();
    moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, ToolsModule], providers: [SlowTools] })
      .overrideProvider(AppConfig)
      .useValue(config)
      .overrideProvider(LlmClient)
      .useValue(client)
      .compile();
    await moduleRef.init();
    loop = moduleRef.get(ToolLoop);
    tools = moduleRef.get(SlowTools);
  });

  afterEach(async () => {
    for (const stream of client.streams) stream.cut();
    await settle();
    await moduleRef.close();
    jest.useRealTimers();
  });

  /** The call's tool history, owned (appended to) by the test as ReplyRunner does. */
  let rounds: ToolRound[];

  /** Runs a turn in the background; what it yields lands in `events`, how it ended in `ended`. */
  function start(overrides: Partial<TurnRequest> = {}) {
    rounds = [];
    const events: TurnEvent[] = [];
    const controller = new AbortController();
    const ended = (async () => {
      for await (const event of loop.run({
        transcript: [{ role: 'user', content: 'When are you open?' }],
        promptContext: {},
        signal: controller.signal,
        agent: defaultAgentSettings(config, 'agent-1'),
        rounds,
        call: {
          sessionId: 'session-1',
          agentId: 'agent-1',
          streamId: 3,
          callSid: null,
          metadata: null,
          fromNumber: null,
          toNumber: null,
        },
        toolsAllowed: true,
        ...overrides,
      })) {
        events.push(event);
        if (event.type === 'tool_round') rounds.push(event.round);
      }
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    return { events, controller, ended };
  }

  const latest = (): FedStream => client.streams[client.streams.length - 1];

  it('relays one model call as it streams when no tool is asked for, with what it says besides text', async () => {
    const turn = start();
    await settle();
    latest().text('Nine');
    latest().text(' to five.');
    latest().finish();

    await expect(turn.ended).resolves.toBeUndefined();
    expect(client.streams).toHaveLength(1);
    expect(turn.events).toEqual([
      { type: 'provider', round: 0, provider: 'default', model: 'test-model' },
      { type: 'text', text: 'Nine' },
      { type: 'text', text: ' to five.' },
      { type: 'round_end', round: 0, summary: { finishReason: 'stop', responseModel: null, reasoning: null } },
    ]);
    expect(rounds).toEqual([]);
  });

  it('offers the agent its tools, but none for the greeting', async () => {
    const turn = start();
    await settle();
    expect(latest().request.tools?.map((t) => t.name)).toEqual(['look_up', 'end_call']);
    latest().finish();
    await turn.ended;

    const greeting = start({ toolsAllowed: false, instruction: 'Greet the caller.' });
    await settle();
    expect(latest().request.tools).toBeUndefined();
    latest().finish();
    await greeting.ended;
  });

  it('runs the tools the model asks for, yields the round, and streams again with the results', async () => {
    const turn = start();
    await settle();
    latest().text('Let me check.');
    latest().toolCall(0, 'call-1', 'look_up', '{}');
    latest().finish();
    await settle();
    tools.release!();
    await settle();

    const round = turn.events.find((e) => e.type === 'tool_round');
    expect(round).toEqual({
      type: 'tool_round',
      round: {
        anchor: 1,
        streamId: 3,
        assistantText: 'Let me check.',
        calls: [{ id: 'call-1', name: 'look_up', arguments: '{}' }],
        results: [{ toolCallId: 'call-1', content: '{"found":true}' }],
      },
      calls: [expect.objectContaining({ id: 'call-1', name: 'look_up', status: 'ok', round: 0 })],
    });
    // The second model call sees the round the caller appended to the call's history.
    expect(client.streams).toHaveLength(2);
    expect(latest().request.messages.at(-1)).toEqual({ role: 'tool', toolCallId: 'call-1', content: '{"found":true}' });
    latest().text('We open at nine.');
    latest().finish();
    await expect(turn.ended).resolves.toBeUndefined();
  });

  it("speaks the tool's filler when it is slower than TOOL_FILLER_AFTER_MS, and not before", async () => {
    const turn = start();
    await settle();
    latest().toolCall(0, 'call-1', 'look_up', '{}');
    latest().finish();
    await settle();

    await jest.advanceTimersByTimeAsync(FILLER_AFTER_MS - 1);
    expect(turn.events.some((e) => e.type === 'filler')).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(turn.events.at(-1)).toEqual({ type: 'filler', text: 'One moment.' });

    tools.release!();
    await settle();
    latest().finish();
    await turn.ended;
  });

  it('yields the call control a tool asked for after its round, and asks the model nothing more', async () => {
    const turn = start();
    await settle();
    latest().toolCall(0, 'call-1', 'end_call', '{"farewell":"Bye now."}');
    latest().finish();

    await expect(turn.ended).resolves.toBeUndefined();
    expect(turn.events.slice(-2).map((e) => e.type)).toEqual(['tool_round', 'call_control']);
    expect(turn.events.at(-1)).toEqual({ type: 'call_control', action: { kind: 'end_call', farewell: 'Bye now.' } });
    expect(client.streams).toHaveLength(1);
  });

  it("fails with 'tool_rounds' when the model still asks for tools after MAX_TOOL_ROUNDS rounds", async () => {
    const turn = start();
    for (let round = 0; round <= 2; round++) {
      await settle();
      expect(latest().request.toolChoice).toBe(round < 2 ? 'auto' : 'none');
      latest().toolCall(0, `call-${round}`, 'no_such_tool', '{}');
      latest().finish();
    }

    const error = await turn.ended;
    expect(error).toBeInstanceOf(LlmReplyError);
    expect(error).toMatchObject({ code: 'tool_rounds' });
    expect(rounds).toHaveLength(2);
  });

  it("yields each model call's usage with the turn's total so far", async () => {
    const turn = start();
    await settle();
    latest().toolCall(0, 'call-1', 'no_such_tool', '{}');
    latest().usage(10, 2);
    latest().finish();
    await settle();
    latest().usage(15, 3);
    latest().finish();
    await turn.ended;

    expect(turn.events.filter((e) => e.type === 'usage')).toEqual([
      {
        type: 'usage',
        round: 0,
        usage: { promptTokens: 10, completionTokens: 2, totalTokens: 12 },
        total: { promptTokens: 10, completionTokens: 2, totalTokens: 12 },
      },
      {
        type: 'usage',
        round: 1,
        usage: { promptTokens: 15, completionTokens: 3, totalTokens: 18 },
        total: { promptTokens: 25, completionTokens: 5, totalTokens: 30 },
      },
    ]);
  });
});
