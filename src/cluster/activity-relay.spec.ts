import type { CallActivity } from '../call-activity/call-activity.feed';
import { LiveCallsState } from '../dashboard/live-calls-state';
import { ActivityRelay, WorkerPort } from './activity-relay';
import type { PrimaryToWorker } from './messages';

const AT = '2025-11-18T09:00:00.000Z';

class FakeWorker implements WorkerPort {
  readonly received: PrimaryToWorker[] = [];
  constructor(readonly id: number) {}
  send(message: PrimaryToWorker): void {
    this.received.push(message);
  }
  /** The activity received, in order. */
  get activity(): CallActivity[] {
    return this.received.flatMap((m) => (m.type === 'millis:activity' ? m.events : []));
  }
  get viewersElsewhere(): boolean[] {
    return this.received.flatMap((m) => (m.type === 'millis:viewers-elsewhere' ? [m.present] : []));
  }
}

const started = (sessionId: string): CallActivity => ({
  type: 'call_started',
  sessionId,
  agentId: 'a',
  fromNumber: null,
  toNumber: null,
  metadata: null,
  at: AT,
});
const replyStarted = (sessionId: string, streamId = 1): CallActivity => ({
  type: 'reply_started',
  sessionId,
  streamId,
  kind: 'reply',
  userText: 'Hours?',
  at: AT,
});
const piece = (sessionId: string, content: string, streamId = 1): CallActivity => ({
  type: 'reply_piece',
  sessionId,
  streamId,
  content,
});
const finished = (sessionId: string, text: string, streamId = 1): CallActivity => ({
  type: 'reply_finished',
  sessionId,
  streamId,
  status: 'completed',
  timeToFirstTokenMs: 100,
  totalMs: 400,
  error: null,
  text,
  at: AT,
});

describe('ActivityRelay', () => {
  let relay: ActivityRelay;
  let one: FakeWorker;
  let two: FakeWorker;
  let three: FakeWorker;

  beforeEach(() => {
    relay = new ActivityRelay();
    [one, two, three] = [new FakeWorker(1), new FakeWorker(2), new FakeWorker(3)];
    [one, two, three].forEach((worker) => relay.join(worker));
  });

  it("sends each worker's activity to every other worker, never back to the sender", () => {
    relay.receive(1, [started('s1'), replyStarted('s1')]);
    expect(one.activity).toEqual([]);
    expect(two.activity.map((a) => a.type)).toEqual(['call_started', 'reply_started']);
    expect(three.activity).toEqual(two.activity);
  });

  it('sends reply pieces only to workers with a live view open, and tells each whether one is open elsewhere', () => {
    relay.viewers(2, 1);
    expect(one.viewersElsewhere).toEqual([true]);
    expect(two.viewersElsewhere).toEqual([]);
    expect(three.viewersElsewhere).toEqual([true]);

    relay.receive(1, [
      started('s1'),
      replyStarted('s1'),
      piece('s1', 'We open '),
      piece('s1', 'at nine.'),
      finished('s1', 'We open at nine.'),
    ]);
    expect(two.activity.map((a) => a.type)).toEqual([
      'call_started',
      'reply_started',
      'reply_piece',
      'reply_piece',
      'reply_finished',
    ]);
    expect(three.activity.map((a) => a.type)).toEqual(['call_started', 'reply_started', 'reply_finished']);

    relay.receive(3, [piece('s3', 'only pieces')]);
    expect(one.activity).toEqual([]);

    relay.viewers(2, 0);
    expect(one.viewersElsewhere).toEqual([true, false]);
    expect(three.viewersElsewhere).toEqual([true, false]);
  });

  it('gives a worker that joins the calls in progress, a streaming turn with its text so far', () => {
    relay.viewers(1, 1);
    relay.receive(2, [
      started('s1'),
      replyStarted('s1', 0),
      finished('s1', 'Hello.', 0),
      replyStarted('s1', 1),
      piece('s1', 'We open '),
    ]);
    relay.receive(2, [
      started('gone'),
      { type: 'call_ended', sessionId: 'gone', endReason: 'connection_closed', at: AT },
    ]);

    const late = new FakeWorker(4);
    relay.join(late);
    expect(late.viewersElsewhere).toEqual([true]);
    const view = new LiveCallsState();
    late.activity.forEach((activity) => view.apply(activity));
    expect(view.snapshot()).toEqual([
      expect.objectContaining({
        session_id: 's1',
        turns: [
          expect.objectContaining({ stream_id: 0, status: 'completed', text: 'Hello.', total_ms: 400 }),
          expect.objectContaining({ stream_id: 1, status: 'streaming', text: 'We open ', user_text: 'Hours?' }),
        ],
      }),
    ]);
  });

  it("ends a dead worker's calls for the others, and forgets its live views", () => {
    relay.viewers(1, 2);
    relay.receive(1, [started('a1'), started('a2')]);
    relay.receive(2, [started('b1')]);

    relay.leave(1, 'crashed');
    expect(two.activity.filter((a) => a.type === 'call_ended')).toEqual([
      expect.objectContaining({ sessionId: 'a1', endReason: 'crashed' }),
      expect.objectContaining({ sessionId: 'a2', endReason: 'crashed' }),
    ]);
    expect(two.viewersElsewhere).toEqual([true, false]);
    expect(relay.callsInProgress).toBe(1);

    const late = new FakeWorker(5);
    relay.join(late);
    expect(late.activity).toEqual([expect.objectContaining({ type: 'call_started', sessionId: 'b1' })]);
  });
});
