import 'reflect-metadata';
import { Test, TestingModule } from '@nestjs/testing';
import { InProcessBus } from '../../test/support/in-process-bus';
import { CallActivity, CallActivityFeed } from '../call-activity/call-activity.feed';
import { ActiveCallRow, ActiveCallsRepository } from '../call-records/active-calls.repository';
import { ClusterBus } from './cluster-bus.service';
import { COALESCE_MS, LiveActivityBridge } from './live-activity-bridge';

const AT = '2030-01-01T00:00:00.000Z';

function started(sessionId: string): CallActivity {
  return {
    type: 'call_started',
    sessionId,
    agentId: 'desk',
    fromNumber: null,
    toNumber: null,
    metadata: { x: 1 },
    at: AT,
  };
}

describe('LiveActivityBridge: the live view across instances', () => {
  let moduleRef: TestingModule;
  let feed: CallActivityFeed;
  let here: InProcessBus;
  let otherInstance: InProcessBus;
  let siblingWorker: InProcessBus;
  let seen: CallActivity[];
  let recorded: ActiveCallRow[];

  beforeEach(async () => {
    jest.useFakeTimers();
    const hub: InProcessBus[] = [];
    here = new InProcessBus('worker-1-id', hub, 'host-a:8080');
    otherInstance = new InProcessBus('instance-b-id', hub, 'host-b:8080');
    siblingWorker = new InProcessBus('worker-2-id', hub, 'host-a:8080');
    recorded = [];
    moduleRef = await Test.createTestingModule({
      providers: [
        LiveActivityBridge,
        CallActivityFeed,
        { provide: ClusterBus, useValue: here },
        { provide: ActiveCallsRepository, useValue: { activeOrListed: () => Promise.resolve(recorded) } },
      ],
    }).compile();
    await moduleRef.init();
    feed = moduleRef.get(CallActivityFeed);
    seen = [];
    feed.clusterActivity$.subscribe((activity) => seen.push(activity));
  });

  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  const activityOf = (bus: InProcessBus) =>
    bus.published.flatMap(({ message }) =>
      typeof message === 'object' && message !== null && 'events' in message ? (message.events as CallActivity[]) : [],
    );

  it("sends this process's activity every 100 ms, a turn's pieces joined into one, without the caller's metadata", async () => {
    feed.publish(started('s1'));
    feed.publish({ type: 'reply_started', sessionId: 's1', streamId: 1, kind: 'reply', userText: 'hi', at: AT });
    for (const content of ['Hel', 'lo', '!'])
      feed.publish({ type: 'reply_piece', sessionId: 's1', streamId: 1, content });
    expect(activityOf(here)).toEqual([]);

    await jest.advanceTimersByTimeAsync(COALESCE_MS);

    expect(activityOf(here)).toEqual([
      { ...started('s1'), metadata: null },
      { type: 'reply_started', sessionId: 's1', streamId: 1, kind: 'reply', userText: 'hi', at: AT },
      { type: 'reply_piece', sessionId: 's1', streamId: 1, content: 'Hello!' },
    ]);
  });

  it("shows other instances' calls, and skips its own instance's workers (their calls come through the primary)", () => {
    otherInstance.publish('millis_live', { type: 'activity', events: [started('on-b')] });
    siblingWorker.publish('millis_live', { type: 'activity', events: [started('on-sibling')] });

    expect(seen.map((a) => a.type === 'call_started' && a.sessionId)).toEqual(['on-b']);
    expect(moduleRef.get(LiveActivityBridge).remoteCallCount).toBe(1);
  });

  it("sets its view right from another process's sync: calls it lacks are shown, calls the sender no longer has end", () => {
    otherInstance.publish('millis_live', { type: 'activity', events: [started('gone'), started('kept')] });
    seen.length = 0;

    const call = { agentId: 'desk', fromNumber: null, toNumber: null, at: AT };
    otherInstance.publish('millis_live', {
      type: 'sync',
      calls: [
        { sessionId: 'kept', ...call },
        { sessionId: 'missed', ...call },
      ],
    });

    expect(seen.map((a) => `${a.type} ${'sessionId' in a ? a.sessionId : ''}`)).toEqual([
      'call_ended gone',
      'call_started missed',
    ]);
  });

  it('produces reply pieces while a live view is open on another instance', () => {
    expect(feed.wantsPieces).toBe(false);
    otherInstance.publish('millis_live', { type: 'viewers', count: 1 });
    expect(feed.wantsPieces).toBe(true);
    otherInstance.publish('millis_live', { type: 'viewers', count: 0 });
    expect(feed.wantsPieces).toBe(false);
  });

  it("after a bus outage, re-reads the calls in progress: other instances' shown, ended ones ended as recorded", async () => {
    otherInstance.publish('millis_live', { type: 'activity', events: [started('ended-meanwhile')] });
    seen.length = 0;
    const row = (
      sessionId: string,
      instanceName: string,
      status: 'active' | 'ended',
      endReason: ActiveCallRow['end_reason'],
    ) => ({
      session_id: sessionId,
      agent_id: 'desk',
      from_number: null,
      to_number: null,
      started_at: new Date(AT),
      instance_id: `${instanceName}-id`,
      instance_name: instanceName,
      status,
      end_reason: endReason,
    });
    recorded = [
      row('started-meanwhile', 'host-b:8080', 'active', null),
      row('on-a-sibling', 'host-a:8080/worker-2', 'active', null),
      row('ended-meanwhile', 'host-b:8080', 'ended', 'end_call'),
    ];

    here.reconnected();
    await jest.advanceTimersByTimeAsync(0);

    expect(seen).toEqual([
      {
        type: 'call_started',
        sessionId: 'started-meanwhile',
        agentId: 'desk',
        fromNumber: null,
        toNumber: null,
        metadata: null,
        at: AT,
      },
      { type: 'call_ended', sessionId: 'ended-meanwhile', endReason: 'end_call', at: expect.any(String) },
    ]);
  });
});
