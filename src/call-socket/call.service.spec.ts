import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import type { StartCallDto, StreamRequestDto } from '../protocol/inbound-frames';
import { FakeCallSocket } from '../../test/support/fake-call-socket';
import { callTestingModule, FedLlmClient, FedStream, RecordingAudit, warmAgent } from '../../test/support/call-fakes';
import { CallConnection } from './call-connection';
import { CallActivity, CallActivityFeed } from '../call-activity/call-activity.feed';
import { CallService } from './call.service';

const FALLBACK = 'Sorry, could you say that again?';

/** Lets the reply tasks run until they wait on the model again. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

const startFrame = (overrides: Partial<StartCallDto> = {}): StartCallDto => ({
  stream_id: 0,
  agent_id: 'agent-1',
  session_id: 'session-1',
  call_sid: 'CA1',
  metadata: { customer: { name: 'Ada' } },
  voip: { from: '+15550001', to: '+15550002' },
  ...overrides,
});

const requestFrame = (streamId: number, content = `question ${streamId}`): StreamRequestDto => ({
  stream_id: streamId,
  transcript: [{ role: 'user', content }],
});

describe('CallService', () => {
  let client: FedLlmClient;
  let audit: RecordingAudit;
  let channel: FakeCallSocket;
  let service: CallService;
  let call: CallConnection;
  let activity: CallActivity[];
  let feed: CallActivityFeed;

  let moduleRef: TestingModule;

  async function build(env: Record<string, unknown> = { GREETING: 'Hello {{customer.name}}.' }): Promise<void> {
    const config = AppConfig.from({ FALLBACK_MESSAGE: FALLBACK, OPENAI_MODEL: 'test-model', ...env });
    client = new FedLlmClient();
    audit = new RecordingAudit();
    channel = new FakeCallSocket();
    moduleRef = await callTestingModule({ config, client, audit });
    // agent-1 has called before: its settings are cached, so start_call greets at once.
    await warmAgent(moduleRef, 'agent-1');
    feed = moduleRef.get(CallActivityFeed);
    activity = [];
    feed.activity$.subscribe((event) => activity.push(event));
    service = moduleRef.get(CallService);
    call = service.open(channel);
  }

  /** Opens the call (greeting from config) and starts a reply for `streamId`. */
  async function startReply(streamId: number): Promise<FedStream> {
    service.startCall(call, startFrame());
    service.streamRequest(call, requestFrame(streamId));
    await settle();
    return client.streams[client.streams.length - 1];
  }

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => build());

  afterEach(async () => {
    // Ends any reply still waiting on the model, so no watchdog timer outlives the test.
    channel.peerCloses(1005);
    await settle();
    await moduleRef.close();
  });

  it('speaks the configured greeting on the start_call stream and records the session', () => {
    service.startCall(call, startFrame({ stream_id: 4 }));

    expect(channel.responses(4)).toEqual([
      { stream_id: 4, content: 'Hello Ada.', end_of_stream: false },
      { stream_id: 4, content: '', end_of_stream: true, flush: true },
    ]);
    expect(client.streams).toHaveLength(0);
    expect(audit.sessions).toEqual([
      expect.objectContaining({
        sessionId: 'session-1',
        agentId: 'agent-1',
        fromNumber: '+15550001',
        toNumber: '+15550002',
        status: 'active',
      }),
    ]);
    expect(audit.latestExchange(4)).toMatchObject({
      kind: 'greeting',
      status: 'completed',
      responseText: 'Hello Ada.',
    });
  });

  it('streams a reply to a stream_request and completes its exchange', async () => {
    const stream = await startReply(1);

    expect(stream.request.messages.at(-1)).toEqual({ role: 'user', content: 'question 1' });
    stream.text('Sure.');
    stream.text(' Done.');
    stream.finish();
    await settle();

    expect(channel.responses(1)).toEqual([
      { stream_id: 1, content: 'Sure.', end_of_stream: false },
      { stream_id: 1, content: ' Done.', end_of_stream: false },
      { stream_id: 1, content: '', end_of_stream: true, flush: true },
    ]);
    expect(audit.latestExchange(1)).toMatchObject({
      kind: 'reply',
      status: 'completed',
      responseText: 'Sure. Done.',
      model: 'test-model',
      error: null,
    });
  });

  describe('interrupt', () => {
    it('aborts the in-flight stream upstream, marks it interrupted and sends nothing more for it', async () => {
      const stream = await startReply(1);
      stream.text('Let me');
      await settle();

      service.interrupt(call, { stream_id: 1 });

      expect(stream.signal.aborted).toBe(true);
      expect(audit.latestExchange(1)).toMatchObject({ status: 'interrupted', responseText: 'Let me', error: null });
      expect(audit.latestExchange(1).completedAt).not.toBeNull();
      expect(call.current).toBeNull();
      expect(audit.events).toEqual([
        expect.objectContaining({ type: 'interrupt', streamId: 1, sessionId: 'session-1', payload: { stream_id: 1 } }),
      ]);

      stream.text(' check that.');
      stream.finish();
      await settle();

      expect(channel.responses(1)).toEqual([{ stream_id: 1, content: 'Let me', end_of_stream: false }]);
      expect(audit.exchangeHistory(1).map((e) => e.status)).toEqual(['streaming', 'interrupted']);
    });

    it('changes nothing when it names a stream other than the one in flight', async () => {
      const stream = await startReply(2);

      service.interrupt(call, { stream_id: 1 });
      stream.text('Still here.');
      stream.finish();
      await settle();

      expect(stream.signal.aborted).toBe(false);
      expect(audit.events.map((e) => [e.type, e.streamId])).toEqual([['interrupt', 1]]);
      expect(channel.responses(2).map((r) => [r.content, r.end_of_stream])).toEqual([
        ['Still here.', false],
        ['', true],
      ]);
      expect(audit.latestExchange(2).status).toBe('completed');
    });
  });

  describe('stream_request ordering', () => {
    it('lets a newer stream_request supersede the reply in flight', async () => {
      const first = await startReply(1);
      first.text('First answer');
      await settle();

      service.streamRequest(call, requestFrame(2));
      await settle();

      expect(first.signal.aborted).toBe(true);
      expect(audit.latestExchange(1)).toMatchObject({ status: 'superseded', responseText: 'First answer' });

      const second = client.streams[1];
      first.text(' that was cut off');
      second.text('Second answer.');
      second.finish();
      await settle();

      expect(channel.responses(1)).toEqual([{ stream_id: 1, content: 'First answer', end_of_stream: false }]);
      expect(channel.responses(2)).toEqual([
        { stream_id: 2, content: 'Second answer.', end_of_stream: false },
        { stream_id: 2, content: '', end_of_stream: true, flush: true },
      ]);
      expect(audit.latestExchange(1).status).toBe('superseded');
      expect(audit.latestExchange(2).status).toBe('completed');
      expect(call.newestStreamId).toBe(2);
    });

    it('records a stream_request with a lower stream_id as stale and leaves the reply in flight alone', async () => {
      const stream = await startReply(3);

      service.streamRequest(call, requestFrame(2, 'old question'));
      await settle();

      expect(client.streams).toHaveLength(1);
      expect(stream.signal.aborted).toBe(false);
      expect(audit.exchangeHistory(2)).toEqual([]);
      expect(audit.events).toEqual([
        expect.objectContaining({
          type: 'stale_stream_request',
          streamId: 2,
          payload: { newest_stream_id: 3, transcript: [{ role: 'user', content: 'old question' }] },
        }),
      ]);

      stream.text('Answer to three.');
      stream.finish();
      await settle();

      expect(channel.responses(3).map((r) => r.content)).toEqual(['Answer to three.', '']);
      expect(audit.latestExchange(3).status).toBe('completed');
    });
  });

  describe('failures', () => {
    it('sends the fallback message, ends the stream and records the error when the model fails mid-stream', async () => {
      const stream = await startReply(1);
      stream.text('Let me check');
      await settle();

      stream.fail(new Error('connection reset'));
      await settle();

      expect(channel.responses(1)).toEqual([
        { stream_id: 1, content: 'Let me check', end_of_stream: false },
        { stream_id: 1, content: ` ${FALLBACK}`, end_of_stream: false, flush: true },
        { stream_id: 1, content: '', end_of_stream: true, flush: true },
      ]);
      expect(audit.latestExchange(1)).toMatchObject({
        status: 'failed',
        error: 'LLM request failed: connection reset',
        errorCode: 'upstream_error',
        responseText: `Let me check ${FALLBACK}`,
      });
      expect(call.current).toBeNull();
      expect(activity.find((a) => a.type === 'reply_finished' && a.streamId === 1)).toMatchObject({
        status: 'failed',
        errorCode: 'upstream_error',
      });
    });

    it('records a stream that ends without finishing as failed, after the fallback', async () => {
      const stream = await startReply(1);

      stream.cut();
      await settle();

      expect(channel.responses(1).map((r) => r.content)).toEqual([FALLBACK, '']);
      expect(channel.responses(1).at(-1)?.end_of_stream).toBe(true);
      expect(audit.latestExchange(1)).toMatchObject({
        status: 'failed',
        error: 'the model stream ended before it finished',
        errorCode: 'stream_cut',
      });
      expect(activity.find((a) => a.type === 'reply_finished' && a.streamId === 1)).toMatchObject({
        errorCode: 'stream_cut',
      });
    });
  });

  describe('close', () => {
    it('aborts the reply in flight and records the session as ended by the closed connection', async () => {
      const stream = await startReply(1);
      stream.text('Half');
      await settle();

      channel.peerCloses(1006);

      expect(stream.signal.aborted).toBe(true);
      expect(audit.latestExchange(1)).toMatchObject({ status: 'interrupted', error: 'connection closed' });
      const session = audit.sessions.at(-1)!;
      expect(session).toMatchObject({
        sessionId: 'session-1',
        status: 'ended',
        endReason: 'connection_closed',
        closeCode: 1006,
      });
      expect(session.endedAt).not.toBeNull();
      expect(service.activeCalls).toBe(0);

      stream.text(' more');
      stream.finish();
      await settle();
      expect(channel.responses(1)).toEqual([{ stream_id: 1, content: 'Half', end_of_stream: false }]);
    });

    it('records the end only once when closed twice', () => {
      service.startCall(call, startFrame());

      channel.peerCloses(1000);
      channel.peerCloses(1000);

      expect(audit.sessions.map((s) => s.status)).toEqual(['active', 'ended']);
    });
  });

  it('publishes the activity of a call to observers: start, reply pieces, reply end with timings, call end', async () => {
    feed.setViewersHere(1);
    const stream = await startReply(1);
    stream.text('Sure.');
    stream.finish();
    await settle();
    channel.peerCloses(1000);

    expect(activity.map((a) => a.type)).toEqual([
      'call_started',
      'reply_started',
      'reply_piece',
      'reply_finished',
      'reply_started',
      'reply_piece',
      'reply_finished',
      'call_ended',
    ]);
    const finished = activity.filter((a) => a.type === 'reply_finished');
    expect(finished[1]).toMatchObject({ streamId: 1, status: 'completed', error: null });
    expect(finished[1]).not.toHaveProperty('errorCode');
    expect(activity[4]).toMatchObject({ type: 'reply_started', streamId: 1, kind: 'reply', userText: 'question 1' });
    expect(activity.at(-1)).toMatchObject({ type: 'call_ended', endReason: 'connection_closed' });
  });

  it('publishes no reply piece while no live view is open; the finished reply carries its whole text', async () => {
    const stream = await startReply(1);
    stream.text('Sure, ');
    stream.text('done.');
    stream.finish();
    await settle();

    expect(activity.filter((a) => a.type === 'reply_piece')).toEqual([]);
    expect(activity.filter((a) => a.type === 'reply_finished').at(-1)).toMatchObject({
      streamId: 1,
      text: 'Sure, done.',
    });
  });

  it('records a stream_request before start_call as invalid and does not call the model', async () => {
    service.streamRequest(call, requestFrame(1));
    await settle();

    expect(client.streams).toHaveLength(0);
    expect(channel.sent).toEqual([]);
    expect(audit.exchanges).toEqual([]);
    expect(audit.events).toEqual([
      expect.objectContaining({
        type: 'invalid',
        sessionId: null,
        streamId: null,
        payload: expect.objectContaining({
          reason: 'invalid_fields',
          detail: 'stream_request before start_call',
          frameType: 'stream_request',
          connection_id: call.connectionId,
        }),
      }),
    ]);
  });
});
