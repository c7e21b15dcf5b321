import { AuditQueue } from './audit-queue';
import { EventRecord, ExchangeRecord, SessionRecord } from './audit-records';
import { estimateJsonBytes } from './row-size';

const session = (overrides: Partial<SessionRecord> = {}): SessionRecord => ({
  sessionId: 's-1',
  agentId: 'agent',
  callSid: null,
  metadata: null,
  fromNumber: '+15550100',
  toNumber: null,
  status: 'active',
  endReason: null,
  startedAt: '2025-01-01T00:00:00.000000Z',
  endedAt: null,
  closeCode: null,
  ...overrides,
});

const exchange = (transcript: string): ExchangeRecord => ({
  id: 'e-1',
  sessionId: 's-1',
  streamId: 1,
  kind: 'reply',
  transcript: [{ role: 'user', content: transcript }],
  responseText: '',
  status: 'streaming',
  model: null,
  error: null,
  requestedAt: '2025-01-01T00:00:01.000000Z',
  firstTokenAt: null,
  completedAt: null,
  promptTokens: null,
  completionTokens: null,
  totalTokens: null,
});

const event = (id: string, text: string): EventRecord => ({
  id,
  sessionId: 's-1',
  type: 'partial_transcript',
  streamId: null,
  payload: { transcript: text },
  receivedAt: '2025-01-01T00:00:02.000000Z',
});

describe('AuditQueue', () => {
  it('counts a replaced snapshot once, at its new size', () => {
    const queue = new AuditQueue();
    queue.addExchange(exchange('short'));
    const before = queue.bytes;

    queue.addExchange(exchange('x'.repeat(10_000)));

    expect(queue.rows).toBe(1);
    expect(queue.bytes - before).toBe(10_000 - 'short'.length);
  });

  it('counts a session, its phone sighting and events, and is empty in rows and bytes once taken', () => {
    const queue = new AuditQueue();
    queue.addSession(session());
    queue.addEvent(event('v-1', 'a'.repeat(1_000)));

    expect(queue.rows).toBe(3);
    expect(queue.bytes).toBeGreaterThan(1_000);

    const batch = queue.take();

    expect([batch.phones.length, batch.sessions.length, batch.events.length]).toEqual([1, 1, 1]);
    expect([queue.rows, queue.bytes]).toEqual([0, 0]);
  });

  it('puts back what a flush could not write, counted again, without replacing newer snapshots', () => {
    const queue = new AuditQueue();
    queue.addSession(session());
    queue.addEvent(event('v-1', 'old'));
    const taken = queue.take();
    queue.addSession(session({ status: 'ended', endedAt: '2025-01-01T00:01:00.000000Z' }));
    queue.addEvent(event('v-2', 'new'));

    queue.putBack(taken);
    const again = queue.take();

    expect(again.sessions.map((q) => q.row.status)).toEqual(['ended']);
    expect(again.events.map((q) => q.row.id)).toEqual(['v-1', 'v-2']);
    expect(again.phones.map((q) => q.row.number)).toEqual(['+15550100']);
  });

  it('keeps the byte count equal to the sum of what it holds', () => {
    const queue = new AuditQueue();
    for (let i = 0; i < 20; i++) {
      queue.addSession(session({ sessionId: `s-${i % 5}`, agentId: 'a'.repeat(i * 100), fromNumber: `+1555${i % 3}` }));
      queue.addEvent(event(`v-${i}`, 'b'.repeat(i)));
    }
    const bytes = queue.bytes;

    const batch = queue.take();
    const held = [...batch.phones, ...batch.sessions, ...batch.exchanges, ...batch.events].reduce(
      (sum, q) => sum + q.bytes,
      0,
    );

    expect(held).toBe(bytes);
    expect(batch.sessions.map((q) => q.bytes)).toEqual(batch.sessions.map((q) => estimateJsonBytes(q.row)));
  });
});

describe('estimateJsonBytes', () => {
  it('is close to the JSON length of an ordinary row', () => {
    const row = exchange('what are your opening hours on sunday');
    const json = JSON.stringify(row).length;

    expect(estimateJsonBytes(row)).toBeGreaterThan(json * 0.8);
    expect(estimateJsonBytes(row)).toBeLessThan(json * 1.2);
  });

  it('walks nesting deeper than JSON.stringify can, and a cycle once', () => {
    let deep: unknown[] = [];
    const root = deep;
    for (let i = 0; i < 200_000; i++) {
      const next: unknown[] = [];
      deep.push(next);
      deep = next;
    }
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;

    expect(estimateJsonBytes(root)).toBeGreaterThan(200_000);
    expect(estimateJsonBytes(cyclic)).toBeLessThan(100);
  });
});
