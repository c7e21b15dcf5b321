import { EventEmitter } from 'node:events';
import { CallActivityFeed } from '../call-activity/call-activity.feed';
import { LiveCallsService, type LiveClient } from './live-calls.service';
import { EventStreamResponse, LiveController, MAX_BUFFERED_BYTES } from './live.controller';

const AT = '2025-11-18T09:00:00.000Z';

function recordingClient(): LiveClient & { chunks: string[] } {
  const chunks: string[] = [];
  return { chunks, send: (chunk) => (chunks.push(chunk), true), close: () => undefined };
}

function events(chunks: string[]): Array<{ type: string; data: Record<string, unknown> }> {
  return chunks.map((chunk) => {
    const [, type, data] = /^event: (\w+)\ndata: (.*)\n\n$/s.exec(chunk)!;
    return { type, data: JSON.parse(data) };
  });
}

describe('LiveCallsService', () => {
  let feed: CallActivityFeed;
  let live: LiveCallsService;

  beforeEach(() => {
    feed = new CallActivityFeed();
    live = new LiveCallsService(feed);
    live.onModuleInit();
  });
  afterEach(() => live.onModuleDestroy());

  const startCall = (sessionId = 's1') =>
    feed.publish({
      type: 'call_started',
      sessionId,
      agentId: 'agent-1',
      fromNumber: '+15550100',
      toNumber: '+15550199',
      metadata: { secret: 1 },
      at: AT,
    });

  it('folds the feed into the calls in progress, with the reply as sent so far', () => {
    startCall();
    feed.publish({ type: 'reply_started', sessionId: 's1', streamId: 1, kind: 'reply', userText: 'Hours?', at: AT });
    feed.publish({ type: 'reply_piece', sessionId: 's1', streamId: 1, content: 'We open ' });
    feed.publish({ type: 'reply_piece', sessionId: 's1', streamId: 1, content: 'at nine.' });

    const [call] = live.snapshot();
    expect(call).toMatchObject({ session_id: 's1', agent_id: 'agent-1', from_number: '+15550100', started_at: AT });
    expect(call).not.toHaveProperty('metadata');
    expect(call.turns).toEqual([
      expect.objectContaining({ stream_id: 1, user_text: 'Hours?', text: 'We open at nine.', status: 'streaming' }),
    ]);

    feed.publish({
      type: 'reply_finished',
      sessionId: 's1',
      streamId: 1,
      status: 'completed',
      timeToFirstTokenMs: 120,
      totalMs: 480,
      error: null,
      at: AT,
    });
    expect(live.snapshot()[0].turns[0]).toMatchObject({
      status: 'completed',
      time_to_first_token_ms: 120,
      total_ms: 480,
    });

    feed.publish({ type: 'call_ended', sessionId: 's1', endReason: 'connection_closed', at: AT });
    expect(live.snapshot()).toEqual([]);
  });

  it('sends a new client the snapshot, then each change as a server-sent event', () => {
    startCall();
    const client = recordingClient();
    live.add(client);
    feed.publish({ type: 'reply_started', sessionId: 's1', streamId: 0, kind: 'greeting', userText: null, at: AT });
    feed.publish({ type: 'reply_piece', sessionId: 's1', streamId: 0, content: 'Hello' });
    feed.publish({ type: 'frame_rejected', sessionId: 's1', reason: 'not JSON', count: 1 });

    expect(events(client.chunks).map((e) => e.type)).toEqual(['snapshot', 'reply_started', 'reply_piece']);
    expect(events(client.chunks)[0].data.calls).toHaveLength(1);
    expect(events(client.chunks)[2].data).toEqual({ session_id: 's1', stream_id: 0, content: 'Hello' });
  });

  it('drops a client that refuses or throws, and keeps serving the others without disturbing the publisher', () => {
    const good = recordingClient();
    const full: LiveClient = { send: jest.fn().mockReturnValueOnce(true).mockReturnValue(false), close: jest.fn() };
    const broken: LiveClient = {
      send: jest
        .fn()
        .mockReturnValueOnce(true)
        .mockImplementation(() => {
          throw new Error('socket gone');
        }),
      close: jest.fn(),
    };
    live.add(full);
    live.add(broken);
    live.add(good);
    expect(live.clientCount).toBe(3);

    expect(() => startCall()).not.toThrow();
    expect(live.clientCount).toBe(1);
    startCall('s2');
    expect(events(good.chunks).map((e) => e.type)).toEqual(['snapshot', 'call_started', 'call_started']);
  });

  describe('and the feed', () => {
    it('wants reply pieces only while a live view is connected here or in another worker', () => {
      // Metrics subscribe at boot: observers alone do not make pieces worth producing.
      feed.activity$.subscribe(() => undefined);
      expect(feed.wantsPieces).toBe(false);

      const views = [recordingClient(), recordingClient()];
      views.forEach((view) => live.add(view));
      expect(feed.wantsPieces).toBe(true);
      live.remove(views[0]);
      expect(feed.wantsPieces).toBe(true);
      live.remove(views[1]);
      expect(feed.wantsPieces).toBe(false);

      feed.setViewersElsewhere(true);
      expect(feed.wantsPieces).toBe(true);
      feed.setViewersElsewhere(false);
      expect(feed.wantsPieces).toBe(false);
    });

    it('stops wanting pieces when its last view is dropped for refusing data, and says so to who follows the count', () => {
      const counts: number[] = [];
      feed.viewers$.subscribe((count) => counts.push(count));
      live.add({ send: jest.fn().mockReturnValueOnce(true).mockReturnValue(false), close: jest.fn() });
      feed.publish({ type: 'call_ended', sessionId: 's1', endReason: 'connection_closed', at: AT });
      expect(feed.wantsPieces).toBe(false);
      expect(counts).toEqual([0, 1, 0]);
    });

    it("shows another worker's calls as its own, without them reaching this process's counters", () => {
      const counted: string[] = [];
      feed.activity$.subscribe((activity) => counted.push(activity.type));
      feed.receive({
        type: 'call_started',
        sessionId: 'elsewhere',
        agentId: 'a',
        fromNumber: null,
        toNumber: null,
        metadata: null,
        at: AT,
      });
      feed.publish({
        type: 'call_started',
        sessionId: 'here',
        agentId: 'a',
        fromNumber: null,
        toNumber: null,
        metadata: null,
        at: AT,
      });

      expect(live.snapshot().map((call) => call.session_id)).toEqual(['elsewhere', 'here']);
      expect(counted).toEqual(['call_started']);
    });

    it('completes a turn from the whole text of reply_finished when its pieces were not streamed (a view opened mid-reply)', () => {
      feed.publish({
        type: 'call_started',
        sessionId: 's1',
        agentId: 'a',
        fromNumber: null,
        toNumber: null,
        metadata: null,
        at: AT,
      });
      feed.publish({ type: 'reply_started', sessionId: 's1', streamId: 1, kind: 'reply', userText: 'Hours?', at: AT });
      const view = recordingClient();
      live.add(view);
      feed.publish({ type: 'reply_piece', sessionId: 's1', streamId: 1, content: 'at nine.' });
      const text = 'We open at nine.';
      feed.publish({
        type: 'reply_finished',
        sessionId: 's1',
        streamId: 1,
        status: 'completed',
        timeToFirstTokenMs: 90,
        totalMs: 300,
        error: null,
        text,
        at: AT,
      });

      expect(live.snapshot()[0].turns[0]).toMatchObject({ text, status: 'completed' });
      expect(events(view.chunks).at(-1)).toEqual({
        type: 'reply_finished',
        data: expect.objectContaining({ stream_id: 1, text }),
      });
    });
  });

  describe('LiveController', () => {
    class FakeResponse implements EventStreamResponse {
      writableLength = 0;
      destroyed = false;
      writableEnded = false;
      readonly written: string[] = [];
      status = jest.fn();
      setHeader = jest.fn();
      flushHeaders = jest.fn();
      write = jest.fn((chunk: string) => this.written.push(chunk) > 0);
      end = jest.fn(() => (this.writableEnded = true));
      destroy = jest.fn(() => (this.destroyed = true));
    }

    it('closes a client whose unsent data piles up instead of buffering without end', () => {
      const feed = new CallActivityFeed();
      const live = new LiveCallsService(feed);
      live.onModuleInit();
      const req = new EventEmitter();
      const res = new FakeResponse();
      new LiveController(live).stream(req, res);
      expect(res.written[0]).toMatch(/^event: snapshot\n/);
      expect(res.setHeader).toHaveBeenCalledWith('Content-Type', 'text/event-stream; charset=utf-8');

      res.writableLength = MAX_BUFFERED_BYTES + 1;
      feed.publish({ type: 'call_ended', sessionId: 's1', endReason: 'connection_closed', at: AT });
      expect(res.destroy).toHaveBeenCalled();
      expect(live.clientCount).toBe(0);

      req.emit('close');
      live.onModuleDestroy();
    });
  });
});
