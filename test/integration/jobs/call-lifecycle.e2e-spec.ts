import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { CallLifecycle } from '../../../src/call-lifecycle/call-lifecycle.service';
import { CallLifecycleModule } from '../../../src/call-lifecycle/call-lifecycle.module';
import type { CallLifecycleEvent } from '../../../src/call-lifecycle/call-lifecycle-event';
import type { SqlExecutor } from '../../../src/database/sql-executor';
import { ordinaryCalls } from '../../support/audit-test-kit';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

/** Records what it receives, in a table of the test's own, inside the dispatching transaction. */
@Injectable()
class RecordingListener implements OnModuleInit {
  failNext = 0;
  received: CallLifecycleEvent[] = [];

  constructor(private readonly lifecycle: CallLifecycle) {}

  onModuleInit(): void {
    this.lifecycle.subscribe({
      onCallEvents: async (events: CallLifecycleEvent[], tx: SqlExecutor) => {
        for (const e of events) {
          await tx.executeSql(
            `INSERT INTO test_call_events (event_id, type, call_id, session_id) VALUES ($1, $2, $3, $4)`,
            [e.id, e.type, e.callId, e.sessionId],
          );
        }
        if (this.failNext > 0) {
          this.failNext--;
          throw new Error('listener refused');
        }
        this.received.push(...events);
      },
    });
  }
}

@Module({ imports: [CallLifecycleModule], providers: [RecordingListener] })
class RecordingModule {}

describe('Call lifecycle events', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await startTestApp({ imports: [RecordingModule], env: { CALL_EVENTS_POLL_MS: '100' } });
    await a.db.query(`DROP TABLE IF EXISTS test_call_events`);
    // A unique event id: a second delivery of the same event would fail the insert.
    await a.db.query(
      `CREATE TABLE test_call_events (event_id uuid PRIMARY KEY, type text, call_id uuid, session_id text)`,
    );
    b = await startTestApp({ imports: [RecordingModule], env: { CALL_EVENTS_POLL_MS: '100' }, keepData: true });
  });
  afterAll(async () => {
    await a?.db.query(`DROP TABLE IF EXISTS test_call_events`);
    await b?.close();
    await a?.close();
  });

  it('hands each call start and end to the listeners once across two instances', async () => {
    const sessions = [...(await ordinaryCalls(a, 'lifecycle-a', 10)), ...(await ordinaryCalls(b, 'lifecycle-b', 10))];
    await eventually(async () => {
      const { rows } = await a.db.query(
        `SELECT type, count(*)::int AS n FROM test_call_events WHERE session_id = ANY($1) GROUP BY type ORDER BY type`,
        [sessions],
      );
      expect(rows).toEqual([
        { type: 'call.ended', n: 20 },
        { type: 'call.started', n: 20 },
      ]);
    }, 15_000);
    const listeners = [a, b].map((t) => t.app.get(RecordingListener));
    const handed = listeners.flatMap((l) => l.received).filter((e) => sessions.includes(e.sessionId));
    expect(handed).toHaveLength(40);
    expect(new Set(handed.map((e) => e.id)).size).toBe(40);
    // Both instances took part (each polls; neither waits for the other).
    expect(listeners.every((l) => l.received.length > 0)).toBe(true);
  });

  it('hands the events again when a listener fails, and never twice once stored', async () => {
    const listeners = [a, b].map((t) => t.app.get(RecordingListener));
    listeners.forEach((l) => (l.failNext = 2));
    const [session] = await ordinaryCalls(a, 'lifecycle-retry', 1);
    await eventually(async () => {
      const { rows } = await a.db.query(`SELECT type FROM test_call_events WHERE session_id = $1 ORDER BY type`, [
        session,
      ]);
      expect(rows.map((r) => r.type)).toEqual(['call.ended', 'call.started']);
    }, 15_000);
    expect(listeners.reduce((sum, l) => sum + l.failNext, 0)).toBeLessThan(4);
  });

  it('dispatches a new call.ended when a reconnected session ends again', async () => {
    const first = await MillisPlatformClient.connect(a.wsUrl);
    first.startCall({ session_id: 'lifecycle-reconnect', agent_id: 'agent-ordinary' });
    await first.waitForEnd(0);
    await first.close();
    const endedEvents = async () =>
      (
        await a.db.query(`SELECT event_id FROM test_call_events WHERE session_id = $1 AND type = 'call.ended'`, [
          'lifecycle-reconnect',
        ])
      ).rows;
    await eventually(async () => expect(await endedEvents()).toHaveLength(1), 15_000);

    const again = await MillisPlatformClient.connect(b.wsUrl);
    again.startCall({ session_id: 'lifecycle-reconnect', agent_id: 'agent-ordinary' });
    await again.waitForEnd(0);
    await again.close();
    await eventually(async () => expect(await endedEvents()).toHaveLength(2), 15_000);
  });
});
