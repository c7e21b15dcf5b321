import 'reflect-metadata';
import { Injectable, Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { FakeCallSocket } from '../../test/support/fake-call-socket';
import { callTestingModule, FedLlmClient, FedStream, RecordingAudit, warmAgent } from '../../test/support/call-fakes';
import { AppConfig } from '../config/app-config';
import { LlmTool } from '../tools/llm-tool.decorator';
import type { ToolContext } from '../tools/tool-context';
import { CallActivity, CallActivityFeed } from '../call-activity/call-activity.feed';
import { CallConnection, CallState, DROP_SUMMARY_WINDOW_MS, IllegalCallTransition } from './call-connection';
import { CallService } from './call.service';

const PING_MS = 15_000;

/** A tool that waits until the test lets it go, or until its signal aborts. */
@Injectable()
class SlowTools {
  readonly started: ToolContext[] = [];
  release: (() => void) | undefined;

  @LlmTool({ name: 'look_up', description: 'Looks something up, slowly.' })
  lookUp(_args: object, ctx: ToolContext): Promise<{ found: boolean }> {
    this.started.push(ctx);
    return new Promise((resolve, reject) => {
      this.release = () => resolve({ found: true });
      ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
  }
}

/** Lets the reply tasks run until they wait on the model again (setImmediate stays real). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('CallConnection: the states of a call', () => {
  let moduleRef: TestingModule;
  let client: FedLlmClient;
  let audit: RecordingAudit;
  let service: CallService;
  let tools: SlowTools;
  let socket: FakeCallSocket;
  let call: CallConnection;
  let activity: CallActivity[];
  let states: CallState[];

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    const config = AppConfig.from({
      OPENAI_MODEL: 'test-model',
      GREETING: 'Hello.',
      AGENT_TOOLS: 'end_call,look_up',
      WS_PING_INTERVAL_MS: String(PING_MS),
      WS_MAX_FRAMES_PER_SECOND: '5',
      WS_FRAME_BURST: '5',
    });
    client = new FedLlmClient();
    audit = new RecordingAudit();
    moduleRef = await callTestingModule({ config, client, audit, providers: [SlowTools] });
    await warmAgent(moduleRef, 'agent-1');
    service = moduleRef.get(CallService);
    tools = moduleRef.get(SlowTools);
    activity = [];
    moduleRef.get(CallActivityFeed).activity$.subscribe((event) => activity.push(event));
    socket = new FakeCallSocket();
    call = service.open(socket);
    states = [call.state];
  });

  afterEach(async () => {
    socket.peerCloses(1000);
    await settle();
    await moduleRef.close();
    jest.useRealTimers();
  });

  const note = () => states.push(call.state);

  function startCall(): void {
    service.startCall(call, { stream_id: 0, agent_id: 'agent-1', session_id: 'session-1' });
    note();
  }

  async function ask(streamId: number): Promise<FedStream> {
    service.streamRequest(call, {
      stream_id: streamId,
      transcript: [{ role: 'user', content: `question ${streamId}` }],
    });
    note();
    await settle();
    return client.streams[client.streams.length - 1];
  }

  it('goes connected -> replying (greeting) -> idle -> replying -> idle -> ended', async () => {
    expect(call.state).toBe('connected');
    startCall();
    const stream = await ask(1);
    stream.text('Sure.');
    stream.finish();
    await settle();
    note();
    socket.peerCloses(1000);
    note();

    // The fixed greeting is spoken inside start_call: started is passed on the way to idle.
    expect(states).toEqual(['connected', 'idle', 'replying', 'idle', 'ended']);
    expect(audit.sessions.at(-1)).toMatchObject({ status: 'ended', endReason: 'connection_closed', closeCode: 1000 });
  });

  it('closed during a reply: the reply stops, says nothing more, and is recorded as interrupted', async () => {
    startCall();
    const stream = await ask(1);
    stream.text('Half');
    await settle();
    expect(call.state).toBe('replying');

    socket.peerCloses(1006);
    stream.text(' and the rest');
    await settle();

    expect(call.state).toBe('ended');
    expect(stream.signal.aborted).toBe(true);
    expect(socket.responses(1).map((r) => r.content)).toEqual(['Half']);
    expect(audit.latestExchange(1)).toMatchObject({
      status: 'interrupted',
      error: 'connection closed',
      responseText: 'Half',
    });
    expect(audit.sessions.at(-1)).toMatchObject({ status: 'ended', endReason: 'connection_closed', closeCode: 1006 });
  });

  it('closed during a tool call: the tool is aborted, the model is not asked again', async () => {
    startCall();
    const stream = await ask(1);
    stream.toolCall(0, 'call-1', 'look_up', '{}');
    stream.finish();
    await settle();
    expect(tools.started).toHaveLength(1);
    expect(call.state).toBe('replying');

    socket.peerCloses(1001);
    await settle();

    expect(call.state).toBe('ended');
    expect(tools.started[0].signal.aborted).toBe(true);
    expect(client.streams).toHaveLength(1);
    expect(audit.latestExchange(1)).toMatchObject({ status: 'interrupted', error: 'connection closed' });
  });

  it('after end_call: ending until the platform hangs up, then ended as end_call', async () => {
    startCall();
    const stream = await ask(1);
    stream.text('Goodbye!');
    stream.toolCall(0, 'call-1', 'end_call', '{}');
    stream.finish();
    await settle();

    expect(call.state).toBe('ending');
    expect(socket.sent.at(-1)).toEqual({ type: 'end_call', data: { stream_id: 1 } });
    socket.peerCloses(1000);
    expect(call.state).toBe('ended');
    expect(audit.sessions.at(-1)).toMatchObject({ endReason: 'end_call' });
  });

  it('after end_call the platform may still ask: ending -> replying', async () => {
    startCall();
    const first = await ask(1);
    first.toolCall(0, 'call-1', 'end_call', '{"farewell":"Bye."}');
    first.finish();
    await settle();
    expect(call.state).toBe('ending');

    const second = await ask(2);
    expect(call.state).toBe('replying');
    second.text('Still here.');
    second.finish();
    await settle();
    expect(call.state).toBe('idle');
  });

  it('an interrupt ends the reply: replying -> idle', async () => {
    startCall();
    const stream = await ask(1);
    service.interrupt(call, { stream_id: 1 });
    expect(call.state).toBe('idle');
    expect(stream.signal.aborted).toBe(true);
  });

  it('a newer stream_request supersedes the reply: replying -> replying', async () => {
    startCall();
    const first = await ask(1);
    const second = await ask(2);
    expect(states.slice(-2)).toEqual(['replying', 'replying']);
    expect(first.signal.aborted).toBe(true);
    expect(second.signal.aborted).toBe(false);
    expect(audit.latestExchange(1)).toMatchObject({ status: 'superseded' });
  });

  it('a peer that misses a ping is cut and the call ends as peer_lost', () => {
    startCall();
    jest.advanceTimersByTime(PING_MS);
    expect(socket.pings).toBe(1);
    socket.pong();
    jest.advanceTimersByTime(PING_MS);
    expect(socket.pings).toBe(2);
    expect(call.state).toBe('idle');

    jest.advanceTimersByTime(PING_MS);
    expect(socket.terminated).toBe(true);
    expect(call.state).toBe('ended');
    expect(audit.sessions.at(-1)).toMatchObject({ endReason: 'peer_lost' });
    expect(activity).toContainEqual({ type: 'peer_lost', sessionId: 'session-1' });
  });

  it('any frame counts as a sign of life', () => {
    jest.advanceTimersByTime(PING_MS);
    call.admitFrame(10);
    jest.advanceTimersByTime(PING_MS);
    expect(socket.terminated).toBe(false);
  });

  it('frames over the rate limit are dropped and summarised once per window', () => {
    const admitted = Array.from({ length: 8 }, () => call.admitFrame(100));
    expect(admitted).toEqual([true, true, true, true, true, false, false, false]);
    expect(audit.events).toHaveLength(0);

    jest.advanceTimersByTime(DROP_SUMMARY_WINDOW_MS);
    expect(audit.events).toEqual([
      expect.objectContaining({
        type: 'invalid',
        payload: expect.objectContaining({
          reason: 'rate_limited',
          bytes: 300,
          received: { dropped: 3, window_ms: DROP_SUMMARY_WINDOW_MS },
        }),
      }),
    ]);
    expect(activity).toContainEqual({ type: 'frame_rejected', sessionId: null, reason: 'rate_limited', count: 3 });
    // The bucket refills with time.
    expect(call.admitFrame(100)).toBe(true);
  });

  it('drops not yet summarised are recorded when the socket closes', () => {
    for (let i = 0; i < 7; i++) call.admitFrame(1);
    socket.peerCloses(1000);
    expect(audit.events).toEqual([
      expect.objectContaining({
        payload: expect.objectContaining({ received: { dropped: 2, window_ms: DROP_SUMMARY_WINDOW_MS } }),
      }),
    ]);
  });

  it('a second start_call is recorded as invalid and changes nothing', () => {
    startCall();
    service.startCall(call, { stream_id: 5, agent_id: 'other', session_id: 'session-2' });
    expect(call.sessionId).toBe('session-1');
    expect(audit.events.at(-1)).toMatchObject({
      type: 'invalid',
      payload: expect.objectContaining({ detail: 'start_call received twice on one connection' }),
    });
  });

  it('refuses a transition the machine does not allow', () => {
    startCall();
    expect(() => call.start(call.session!, {}, 0)).toThrow(IllegalCallTransition);
  });

  it('shutdown hangs up at once: the reply is cut, the call ended as shutdown before the socket finishes closing', async () => {
    startCall();
    const stream = await ask(1);
    call.hangUp(1001, 'shutdown', 'service shutting down');

    expect(socket.closedWith).toEqual([{ code: 1001, reason: 'service shutting down' }]);
    expect(call.state).toBe('ended');
    expect(stream.signal.aborted).toBe(true);
    expect(audit.latestExchange(1)).toMatchObject({ status: 'interrupted', error: 'service shutting down' });
    expect(audit.sessions.at(-1)).toMatchObject({ endReason: 'shutdown', closeCode: 1001 });
    // The peer's half of the close handshake changes nothing.
    socket.peerCloses(1001);
    expect(audit.sessions.filter((s) => s.status === 'ended')).toHaveLength(1);
  });
});
