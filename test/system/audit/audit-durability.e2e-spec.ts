import { MillisPlatformClient } from '../../support/millis-platform-client';
import { proxiedTestDatabase, TcpProxy } from '../../support/tcp-proxy';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { deadLetters } from '../../support/audit-test-kit';

const CALLS = 10;
const OUTAGE_MS = 6_000;

describe('Audit during a Postgres outage', () => {
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    const database = await proxiedTestDatabase();
    proxy = database.proxy;
    t = await startTestApp({ env: { DATABASE_URL: database.url, GREETING: 'Hi.' } });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
  });

  it('keeps replying without stalls and loses no row', async () => {
    const clients = await Promise.all(Array.from({ length: CALLS }, () => MillisPlatformClient.connect(t.wsUrl)));
    clients.forEach((c, i) =>
      c.startCall({ session_id: `outage-${i}`, voip: { from: `+1666000${i}`, to: '+16660000' } }),
    );
    await Promise.all(clients.map((c) => c.waitForEnd(0)));

    proxy.cut();
    const outageEnds = Date.now() + OUTAGE_MS;
    let turn = 0;
    const replyTimes: number[] = [];
    while (Date.now() < outageEnds) {
      turn += 1;
      await Promise.all(
        clients.map(async (c, i) => {
          const started = Date.now();
          c.send({
            type: 'partial_transcript',
            data: { session_id: `outage-${i}`, transcript: `turn ${turn}`, is_final: true },
          });
          c.streamRequest(turn, [{ role: 'user', content: `outage ${i} turn ${turn}` }]);
          expect(await c.waitForEnd(turn, 5000)).toBe(`You said: outage ${i} turn ${turn}.`);
          replyTimes.push(Date.now() - started);
        }),
      );
      // A caller's pause between turns: the outage lasts OUTAGE_MS of turns, not one burst.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(t.audit.backlog).toBeGreaterThan(CALLS * turn);
    expect(t.audit.getStats().failedFlushes).toBeGreaterThan(0);
    // Replies did not wait for the database.
    expect(Math.max(...replyTimes)).toBeLessThan(1000);

    proxy.restore();
    await Promise.all(clients.map((c) => c.close()));

    await eventually(
      async () => {
        const { rows } = await t.db.query(`
          SELECT (SELECT count(*)::int FROM call_sessions WHERE session_id LIKE 'outage-%' AND status = 'ended') AS ended,
                 (SELECT count(*)::int FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
                   WHERE s.session_id LIKE 'outage-%' AND e.status = 'completed') AS exchanges,
                 (SELECT count(*)::int FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id
                   WHERE s.session_id LIKE 'outage-%' AND ev.type = 'partial_transcript') AS events`);
        expect(rows[0]).toEqual({ ended: CALLS, exchanges: CALLS * (turn + 1), events: CALLS * turn });
        // The last rows are visible a moment before the writer counts them as written.
        expect(t.audit.backlog).toBe(0);
      },
      20_000,
      200,
    );
    expect(t.audit.getStats().deadLettered).toBe(0);
  });
});

describe('Audit at shutdown', () => {
  it('flushes every queued row before the app exits', async () => {
    const t = await startTestApp({ env: { GREETING: 'Hi.', AUDIT_FLUSH_INTERVAL_MS: '60000' } });
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'shutdown-flush' });
    await client.waitForEnd(0);
    client.streamRequest(1, [{ role: 'user', content: 'last words' }]);
    await client.waitForEnd(1);
    const db = t.db;
    const { rows: before } = await db.query(
      `SELECT count(*)::int AS n FROM call_sessions WHERE session_id = 'shutdown-flush'`,
    );
    expect(before[0].n).toBe(0);

    await t.app.close();

    const { rows } = await db.query(`
      SELECT s.status, s.end_reason, count(e.id)::int AS exchanges
      FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id
      WHERE s.session_id = 'shutdown-flush' GROUP BY s.status, s.end_reason`);
    expect(rows).toEqual([{ status: 'ended', end_reason: 'shutdown', exchanges: 2 }]);
    expect(client.closeCode).toBe(1001);
    await db.end();
    await t.fakeLlm.stop();
  });
});

describe('Audit at shutdown, with rows that cannot be written', () => {
  it('dead-letters a row Postgres refuses with its own reason, and writes every other row', async () => {
    const t = await startTestApp({ env: { GREETING: 'Hi.', AUDIT_FLUSH_INTERVAL_MS: '60000' } });
    await t.db.query(
      `ALTER TABLE call_sessions ADD CONSTRAINT ck_test_refused_agent CHECK (agent_id <> 'refused-agent') NOT VALID`,
    );
    try {
      for (const [sessionId, agentId] of [
        ['shutdown-refused', 'refused-agent'],
        ['shutdown-kept', 'agent-1'],
      ]) {
        const client = await MillisPlatformClient.connect(t.wsUrl);
        client.startCall({ session_id: sessionId, agent_id: agentId });
        await client.waitForEnd(0);
      }

      await t.app.close();

      const { rows } = await t.db.query(
        `SELECT session_id, status FROM call_sessions WHERE session_id LIKE 'shutdown-%'`,
      );
      expect(rows).toEqual([{ session_id: 'shutdown-kept', status: 'ended' }]);
      const letters = await deadLetters(t);
      expect(letters.map((l) => l.code).sort()).toEqual(['23514', 'missing_session']);
      expect(letters.find((l) => l.code === '23514')!.reason).toContain('ck_test_refused_agent');
      expect(letters.some((l) => l.reason.includes('unreachable'))).toBe(false);
    } finally {
      await t.db.query(`ALTER TABLE call_sessions DROP CONSTRAINT ck_test_refused_agent`);
      await t.db.end();
      await t.fakeLlm.stop();
    }
  });

  it('dead-letters the rows an outage kept with the outage as the reason', async () => {
    const { proxy, url } = await proxiedTestDatabase();
    const t = await startTestApp({ env: { DATABASE_URL: url, GREETING: 'Hi.', AUDIT_SHUTDOWN_FLUSH_MS: '500' } });
    try {
      const client = await MillisPlatformClient.connect(t.wsUrl);
      client.startCall({ session_id: 'shutdown-outage' });
      await client.waitForEnd(0);
      await eventually(() => expect(t.audit.backlog).toBe(0));
      proxy.cut();
      client.streamRequest(1, [{ role: 'user', content: 'during the outage' }]);
      await client.waitForEnd(1);

      await t.app.close();

      const letters = await deadLetters(t);
      expect(letters).toHaveLength(1);
      expect(letters[0].reason).toMatch(/^database unreachable at shutdown: /);
      expect(letters[0].code).toBeNull();
      expect(letters[0].batch.exchanges.map((e) => [e.streamId, e.status])).toEqual([[1, 'completed']]);
      expect(letters[0].batch.sessions.map((s) => [s.sessionId, s.status])).toEqual([['shutdown-outage', 'ended']]);
      expect(t.audit.getStats().deadLettered).toBe(2);
    } finally {
      await t.db.end();
      await t.fakeLlm.stop();
      await proxy.stop();
    }
  });
});
