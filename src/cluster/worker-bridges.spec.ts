import { Test } from '@nestjs/testing';
import { EventEmitter } from 'node:events';
import { Counter } from 'prom-client';
import { CallActivity, CallActivityFeed } from '../call-activity/call-activity.feed';
import { MAX_TEXT_CHARS } from '../dashboard/live-calls-state';
import { MetricsScrape } from '../observability/metrics-scrape';
import { MetricsService } from '../observability/metrics.service';
import { ClusterWorker, IpcChannel } from './cluster-worker';
import type { WorkerToPrimary } from './messages';
import { WorkerActivityBridge, WorkerMetricsResponder } from './worker-bridges';

const AT = '2025-11-18T09:00:00.000Z';

class FakeChannel extends EventEmitter implements IpcChannel {
  connected = true;
  readonly sent: WorkerToPrimary[] = [];
  send(message: unknown): boolean {
    this.sent.push(message as WorkerToPrimary);
    this.emit('sent', message);
    return true;
  }
  fromPrimary(message: unknown): void {
    this.emit('message', message);
  }
  of<K extends WorkerToPrimary['type']>(type: K): Array<Extract<WorkerToPrimary, { type: K }>> {
    return this.sent.filter((m): m is Extract<WorkerToPrimary, { type: K }> => m.type === type);
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkerActivityBridge', () => {
  let channel: FakeChannel;
  let feed: CallActivityFeed;
  let bridge: WorkerActivityBridge;

  beforeEach(() => {
    channel = new FakeChannel();
    feed = new CallActivityFeed();
    bridge = new WorkerActivityBridge(feed, new ClusterWorker(1, channel));
    bridge.onApplicationBootstrap();
  });

  it("joins the primary's live view, then sends this worker's activity in order, one message per event-loop turn", async () => {
    expect(channel.sent[0]).toEqual({ type: 'millis:live-join' });
    feed.publish({
      type: 'call_started',
      sessionId: 's1',
      agentId: 'a',
      fromNumber: null,
      toNumber: null,
      metadata: null,
      at: AT,
    });
    feed.publish({ type: 'frame_rejected', sessionId: 's1', reason: 'not_json', count: 1 });
    feed.publish({ type: 'reply_started', sessionId: 's1', streamId: 1, kind: 'reply', userText: 'Hi', at: AT });
    expect(channel.of('millis:activity')).toEqual([]);

    await nextTurn();
    const batches = channel.of('millis:activity');
    expect(batches).toHaveLength(1);
    // Rejected frames only count in this worker's metrics.
    expect(batches[0].events.map((e) => e.type)).toEqual(['call_started', 'reply_started']);
  });

  it('sends no more of a reply text than the live view keeps', async () => {
    const text = 'x'.repeat(MAX_TEXT_CHARS + 10);
    feed.publish({
      type: 'reply_finished',
      sessionId: 's1',
      streamId: 1,
      status: 'completed',
      timeToFirstTokenMs: 1,
      totalMs: 2,
      error: null,
      text,
      at: AT,
    });
    await nextTurn();
    const [finished] = channel.of('millis:activity')[0].events as Array<
      Extract<CallActivity, { type: 'reply_finished' }>
    >;
    expect(finished.text).toHaveLength(MAX_TEXT_CHARS);
  });

  it("feeds the other workers' activity to this worker's views only, and produces pieces while a view is open elsewhere", () => {
    const here: string[] = [];
    const everywhere: string[] = [];
    feed.activity$.subscribe((a) => here.push(a.sessionId ?? ''));
    feed.clusterActivity$.subscribe((a) => everywhere.push(a.sessionId ?? ''));
    channel.fromPrimary({
      type: 'millis:activity',
      events: [{ type: 'call_ended', sessionId: 'other', endReason: 'crashed', at: AT }],
    });
    expect(everywhere).toEqual(['other']);
    expect(here).toEqual([]);

    expect(feed.wantsPieces).toBe(false);
    channel.fromPrimary({ type: 'millis:viewers-elsewhere', present: true });
    expect(feed.wantsPieces).toBe(true);
  });

  it('tells the primary how many views are open here, and sends what is queued when the app shuts down', () => {
    feed.setViewersHere(2);
    feed.setViewersHere(2);
    feed.setViewersHere(0);
    expect(channel.of('millis:viewers').map((m) => m.count)).toEqual([0, 2, 0]);

    feed.publish({ type: 'call_ended', sessionId: 's1', endReason: 'shutdown', at: AT });
    bridge.onApplicationShutdown();
    expect(channel.of('millis:activity')).toEqual([
      { type: 'millis:activity', events: [expect.objectContaining({ type: 'call_ended', sessionId: 's1' })] },
    ]);
  });
});

describe('WorkerMetricsResponder', () => {
  /** The responder as the worker's module wires it, bootstrapped, on a fake channel to the primary. */
  async function responderOn(channel: FakeChannel, slot: number) {
    const moduleRef = await Test.createTestingModule({
      providers: [
        MetricsService,
        MetricsScrape,
        WorkerMetricsResponder,
        { provide: ClusterWorker, useValue: new ClusterWorker(slot, channel) },
      ],
    }).compile();
    moduleRef.get(WorkerMetricsResponder).onApplicationBootstrap();
    return { metrics: moduleRef.get(MetricsService), scrape: moduleRef.get(MetricsScrape) };
  }

  it("answers the primary's collect with this worker's registry, under the same id", async () => {
    const channel = new FakeChannel();
    const { metrics } = await responderOn(channel, 1);
    new Counter({ name: 'millis_calls_started_total', help: 'h', registers: [metrics.registry] });

    const answered = new Promise((resolve) => channel.once('sent', resolve));
    channel.fromPrimary({ type: 'millis:metrics-collect', id: 7 });
    expect(await answered).toEqual({
      type: 'millis:metrics-collected',
      id: 7,
      metrics: expect.arrayContaining([expect.objectContaining({ name: 'millis_calls_started_total' })]),
    });
  });

  it("answers a scrape here with the cluster's totals, asked of the primary", async () => {
    const channel = new FakeChannel();
    const { scrape } = await responderOn(channel, 2);

    const asked = new Promise<WorkerToPrimary>((resolve) => channel.once('sent', resolve));
    const text = scrape.text();
    const request = await asked;
    expect(request).toEqual({ type: 'millis:metrics-request', id: expect.any(Number) });
    channel.fromPrimary({
      type: 'millis:metrics-text',
      id: (request as { id: number }).id,
      text: 'millis_calls_active 3\n',
    });
    await expect(text).resolves.toBe('millis_calls_active 3\n');
  });
});
