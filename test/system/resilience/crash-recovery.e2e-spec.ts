import { Pool } from 'pg';
import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually } from '../../support/eventually';
import { testPool, truncateAuditTables } from '../../support/test-database';
import { freePort, ServiceProcess, spawnService, stopService } from '../support/service-process';

const CALLS = 10;
const FLUSH_MS = 200;

describe('A crash (SIGKILL)', () => {
  let fake: FakeLlmServer;
  let first: ServiceProcess | undefined;
  let second: ServiceProcess | undefined;
  let db: Pool;

  beforeAll(async () => {
    db = testPool();
    await truncateAuditTables(db);
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
    await fake.start();
  });
  afterAll(async () => {
    await stopService(first);
    await stopService(second);
    await fake.stop();
    await db.end();
  });

  const durableExchanges = async () => {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM stream_exchanges WHERE stream_id <= 3 AND status = 'completed'`,
    );
    return rows[0].n as number;
  };

  it("loses at most the last flush interval, and the next start closes the orphaned sessions as 'crashed'", async () => {
    const port = await freePort();
    const env = {
      OPENAI_BASE_URL: fake.baseUrl,
      GREETING: 'Hi.',
      AUDIT_FLUSH_INTERVAL_MS: String(FLUSH_MS),
      INSTANCE_HEARTBEAT_MS: '1000',
    };
    first = await spawnService(env, { port });
    const clients = await Promise.all(Array.from({ length: CALLS }, () => MillisPlatformClient.connect(first!.wsUrl)));
    clients.forEach((c, i) => c.startCall({ session_id: `crash-${i}` }));
    await Promise.all(clients.map((c) => c.waitForEnd(0)));
    for (const turn of [1, 2, 3]) {
      clients.forEach((c, i) => c.streamRequest(turn, [{ role: 'user', content: `turn ${turn} of ${i}` }]));
      await Promise.all(clients.map((c) => c.waitForEnd(turn)));
    }
    // Older than one flush interval (plus the write itself): must be in Postgres by then.
    await eventually(async () => expect(await durableExchanges()).toBe(CALLS * 4), FLUSH_MS + 300, 20);
    // The last turn ends right before the kill: it may be lost.
    clients.forEach((c, i) => c.streamRequest(4, [{ role: 'user', content: `last words of ${i}` }]));
    await Promise.all(clients.map((c) => c.waitForEnd(4)));
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const { rows: before } = await db.query(
      `SELECT count(*) FILTER (WHERE e.stream_id <= 3 AND e.status = 'completed')::int AS durable,
              count(*) FILTER (WHERE e.stream_id = 4)::int AS last_turn,
              count(DISTINCT s.id) FILTER (WHERE s.status = 'active')::int AS active
         FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id`,
    );
    expect(before[0].durable).toBe(CALLS * 4);
    expect(before[0].active).toBe(CALLS);
    console.log(
      `SIGKILL: ${CALLS * 4} durable exchanges kept; of the ${CALLS} replies finished just before the kill, ${before[0].last_turn} were written`,
    );

    // Same name (host:port): the restarted process knows its previous incarnation is dead.
    second = await spawnService(env, { port });
    await eventually(async () => {
      const { rows } = await db.query(`SELECT status, end_reason, count(*)::int AS n FROM call_sessions GROUP BY 1, 2`);
      expect(rows).toEqual([{ status: 'ended', end_reason: 'crashed', n: CALLS }]);
    }, 5000);
    const { rows: streaming } = await db.query(
      `SELECT count(*)::int AS n FROM stream_exchanges WHERE status = 'streaming'`,
    );
    expect(streaming[0].n).toBe(0);
    expect(await second.metric('millis_crashed_sessions_closed_total')).toBe(CALLS);
  });
});
