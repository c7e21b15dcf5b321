import { Pool } from 'pg';
import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { rawUpgrade } from '../../support/raw-http';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { proxiedTestDatabase, TcpProxy } from '../../support/tcp-proxy';
import { eventually } from '../../support/eventually';
import { testPool, truncateAuditTables } from '../../support/test-database';
import { inBatches, ServiceProcess, spawnService, stopService } from '../support/service-process';

const CALLS = 100;
const OUTAGE_MS = 30_000;
/** Reached mid-outage: 100 calls add about 200 rows a turn. */
const MAX_BACKLOG = 4_000;

describe('Postgres down for 30 s under 100 active calls', () => {
  let proxy: TcpProxy;
  let proxiedUrl: string;
  let fake: FakeLlmServer;
  let service: ServiceProcess | undefined;
  let db: Pool;

  beforeAll(async () => {
    db = testPool();
    await truncateAuditTables(db);
    ({ proxy, url: proxiedUrl } = await proxiedTestDatabase());
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
    await fake.start();
  });
  afterAll(async () => {
    await stopService(service);
    await proxy.stop();
    await fake.stop();
    await db.end();
  });

  it('keeps replying, bounds the backlog by refusing new calls, drains on return and loses no row', async () => {
    service = await spawnService({
      DATABASE_URL: proxiedUrl,
      OPENAI_BASE_URL: fake.baseUrl,
      GREETING: 'Hi.',
      AUDIT_MAX_BACKLOG: String(MAX_BACKLOG),
      AUDIT_FLUSH_INTERVAL_MS: '200',
    });
    const clients = await inBatches(CALLS, 20, () => MillisPlatformClient.connect(service!.wsUrl));
    clients.forEach((c, i) =>
      c.startCall({
        session_id: `outage-${i}`,
        voip: { from: `+1777000${String(i).padStart(4, '0')}`, to: '+17770009999' },
      }),
    );
    await Promise.all(clients.map((c) => c.waitForEnd(0)));
    await eventually(async () => expect(await service!.metric('millis_audit_queue_depth')).toBe(0), 5000);

    proxy.cut();
    const outageEnds = Date.now() + OUTAGE_MS;
    let turn = 0;
    let slowestReplyMs = 0;
    let refusedAtBound: number | null = null;
    while (Date.now() < outageEnds) {
      turn += 1;
      await Promise.all(
        clients.map(async (c, i) => {
          const asked = Date.now();
          c.send({
            type: 'partial_transcript',
            data: { session_id: `outage-${i}`, transcript: `turn ${turn}`, is_final: true },
          });
          c.streamRequest(turn, [{ role: 'user', content: `outage ${i} turn ${turn}` }]);
          expect(await c.waitForEnd(turn, 5000)).toBe(`You said: outage ${i} turn ${turn}.`);
          slowestReplyMs = Math.max(slowestReplyMs, Date.now() - asked);
        }),
      );
      if (refusedAtBound === null && (await service.metric('millis_audit_queue_depth'))! >= MAX_BACKLOG) {
        refusedAtBound = (await rawUpgrade(service.wsUrl)).status;
      }
      // A caller's pause between turns: the outage lasts OUTAGE_MS of turns, not one burst.
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    const peak = (await service.metric('millis_audit_queue_peak'))!;
    const ready = await fetch(`${service.httpUrl}/health/ready`);
    proxy.restore();
    const restoredAt = Date.now();

    // Replies never waited for the database: one that did would wait out the pool's 5 s connect
    // timeout at least (how fast replies are is the benchmark's business, not this test's).
    expect(slowestReplyMs).toBeLessThan(5000);
    // At the bound a new call is refused, and counted; calls in progress went on.
    expect(refusedAtBound).toBe(503);
    expect(await service.metric('millis_calls_refused_total{reason="audit_backlog"}')).toBeGreaterThanOrEqual(1);
    expect(ready.status).toBe(503);
    // Nothing was dropped to stay under the bound: the peak is every row of the outage.
    const outageRows = CALLS * turn * 2;
    expect(peak).toBeGreaterThanOrEqual(outageRows);
    expect(peak).toBeLessThanOrEqual(outageRows + CALLS);

    await eventually(async () => expect(await service!.metric('millis_audit_queue_depth')).toBe(0), 20_000, 200);
    const drainedMs = Date.now() - restoredAt;
    const late = await MillisPlatformClient.connect(service.wsUrl);
    late.startCall({ session_id: 'outage-after' });
    expect(await late.waitForEnd(0)).toBe('Hi.');
    await Promise.all([late, ...clients].map((c) => c.close()));

    await eventually(
      async () => {
        const { rows } = await db.query(`
        SELECT (SELECT count(*)::int FROM call_sessions WHERE session_id LIKE 'outage-%' AND status = 'ended') AS ended,
               (SELECT count(*)::int FROM stream_exchanges WHERE status = 'completed') AS exchanges,
               (SELECT count(*)::int FROM call_events WHERE type = 'partial_transcript') AS events`);
        expect(rows[0]).toEqual({ ended: CALLS + 1, exchanges: CALLS * (turn + 1) + 1, events: CALLS * turn });
      },
      10_000,
      200,
    );
    expect(await service.metric('millis_audit_dead_lettered_total')).toBe(0);
    console.log(
      `Postgres outage ${OUTAGE_MS / 1000} s, ${CALLS} calls, ${turn} turns: backlog peak ${peak} rows (bound ${MAX_BACKLOG}), ` +
        `slowest reply ${slowestReplyMs} ms, drained ${drainedMs} ms after Postgres returned, 0 rows lost`,
    );
  });
});
