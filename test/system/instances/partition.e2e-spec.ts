import { Pool } from 'pg';
import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { eventually } from '../../support/eventually';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { proxiedTestDatabase, TcpProxy } from '../../support/tcp-proxy';
import { testPool, truncateAuditTables } from '../../support/test-database';
import { ServiceProcess, spawnService, stopService } from '../support/service-process';

/** The scenario: an instance cut off from Postgres this long. */
const CUT_MS = 30_000;
/**
 * Both instances beat every second (the default is 5 s), so the cut spans 30 heartbeats: ten
 * times what the old rule (3 missed heartbeats) needed to call A dead. The takeover window is
 * the default one.
 */
const HEARTBEAT_MS = '1000';

/**
 * A cut off from Postgres for 30 s through a TCP proxy (open connections reset, new ones refused),
 * B on Postgres directly with its normal liveness sweeps, a call live on A all along.
 */
describe('An instance cut off from Postgres for 30 s', () => {
  let proxy: TcpProxy;
  let proxiedUrl: string;
  let fake: FakeLlmServer;
  let db: Pool;
  let a: ServiceProcess | undefined;
  let b: ServiceProcess | undefined;

  beforeAll(async () => {
    db = testPool();
    await truncateAuditTables(db);
    ({ proxy, url: proxiedUrl } = await proxiedTestDatabase());
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
    await fake.start();
  });
  afterAll(async () => {
    await stopService(a);
    await stopService(b);
    await proxy.stop();
    await fake.stop();
    await db.end();
  });

  it("is not taken for dead: none of its calls is marked 'crashed', and every row of the cut is stored after", async () => {
    const env = { OPENAI_BASE_URL: fake.baseUrl, GREETING: 'Hi.', INSTANCE_HEARTBEAT_MS: HEARTBEAT_MS };
    a = await spawnService({ ...env, DATABASE_URL: proxiedUrl, INSTANCE_NAME: 'partitioned-a' });
    b = await spawnService({ ...env, INSTANCE_NAME: 'watching-b' });
    const client = await MillisPlatformClient.connect(a.wsUrl);
    client.startCall({ session_id: 'through-the-cut', agent_id: 'desk' });
    await client.waitForEnd(0);
    await eventually(async () => {
      const { rows } = await db.query(`SELECT status FROM call_sessions WHERE session_id = 'through-the-cut'`);
      expect(rows).toEqual([{ status: 'active' }]);
    });

    proxy.cut();
    const cutEnds = Date.now() + CUT_MS;
    let turn = 0;
    let silentForMs = 0;
    let crashedDuringCut = 0;
    while (Date.now() < cutEnds) {
      turn += 1;
      client.streamRequest(turn, [{ role: 'user', content: `turn ${turn} during the cut` }]);
      expect(await client.waitForEnd(turn)).toBe(`You said: turn ${turn} during the cut.`);
      const { rows } = await db.query<{ silent_ms: number; crashed: number }>(
        `SELECT (SELECT extract(epoch FROM now() - last_seen_at) * 1000 FROM service_instances
                  WHERE name = 'partitioned-a' AND stopped_at IS NULL)::int AS silent_ms,
                (SELECT count(*) FROM call_sessions WHERE end_reason = 'crashed')::int AS crashed`,
      );
      silentForMs = Math.max(silentForMs, rows[0].silent_ms);
      crashedDuringCut = Math.max(crashedDuringCut, rows[0].crashed);
      // A caller's pause between turns: the cut lasts CUT_MS of turns, not one burst.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    proxy.restore();
    console.log(`A silent for ${silentForMs} ms as B saw it; ${turn} turns answered on A during the cut`);

    // The old rule would have called A dead many times over; B saw it silent, and still took nothing.
    expect(silentForMs).toBeGreaterThan(10 * Number(HEARTBEAT_MS));
    expect(crashedDuringCut).toBe(0);

    // Back: every exchange made during the cut is stored, and the call is still A's, still active.
    await eventually(
      async () => {
        const { rows } = await db.query(
          `SELECT s.status, s.end_reason, count(e.id)::int AS exchanges,
                  count(e.id) FILTER (WHERE e.status = 'completed')::int AS completed
             FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id
            WHERE s.session_id = 'through-the-cut' GROUP BY 1, 2`,
        );
        expect(rows).toEqual([{ status: 'active', end_reason: null, exchanges: turn + 1, completed: turn + 1 }]);
      },
      20_000,
      100,
    );
    expect(await b.metric('millis_crashed_sessions_closed_total')).toBe(0);
    expect(await a.metric('millis_sessions_reclaimed_total')).toBe(0);
    // A's bus listener came back too.
    await eventually(async () => expect(await a!.metric('millis_bus_connected')).toBe(1), 15_000, 100);
    expect(await a.metric('millis_bus_listener_reconnects_total')).toBeGreaterThanOrEqual(1);

    // The call goes on and ends as usual.
    client.streamRequest(turn + 1, [{ role: 'user', content: 'after the cut' }]);
    expect(await client.waitForEnd(turn + 1)).toBe('You said: after the cut.');
    await client.close();
    await eventually(async () => {
      const { rows } = await db.query(
        `SELECT status, end_reason FROM call_sessions WHERE session_id = 'through-the-cut'`,
      );
      expect(rows).toEqual([{ status: 'ended', end_reason: 'connection_closed' }]);
    }, 20_000);
    const { rows: crashed } = await db.query(
      `SELECT count(*)::int AS n FROM call_sessions WHERE end_reason = 'crashed'`,
    );
    expect(crashed[0].n).toBe(0);
  }, 120_000);

  it('cut off longer than the takeover window: its calls are closed by B, and taken back by A when it returns', async () => {
    // A from the test above, still running; B again, now with a takeover window shorter than the cut.
    await stopService(b);
    b = await spawnService({
      OPENAI_BASE_URL: fake.baseUrl,
      INSTANCE_HEARTBEAT_MS: HEARTBEAT_MS,
      INSTANCE_TAKEOVER_AFTER_MS: '5000',
      INSTANCE_NAME: 'watching-b',
    });
    const client = await MillisPlatformClient.connect(a!.wsUrl);
    client.startCall({ session_id: 'past-the-window', agent_id: 'desk' });
    await client.waitForEnd(0);
    await eventually(async () => {
      const { rows } = await db.query(`SELECT status FROM call_sessions WHERE session_id = 'past-the-window'`);
      expect(rows).toEqual([{ status: 'active' }]);
    });

    proxy.cut();
    client.streamRequest(1, [{ role: 'user', content: 'during the cut' }]);
    expect(await client.waitForEnd(1)).toBe('You said: during the cut.');
    // What the documentation says happens past the window: B closes A's call.
    await eventually(
      async () => {
        const { rows } = await db.query(`SELECT end_reason FROM call_sessions WHERE session_id = 'past-the-window'`);
        expect(rows).toEqual([{ end_reason: 'crashed' }]);
      },
      30_000,
      200,
    );
    proxy.restore();

    // A's first heartbeat back takes the call back; its rows of the cut follow.
    await eventually(
      async () => {
        const { rows } = await db.query(
          `SELECT s.status, s.end_reason, count(e.id) FILTER (WHERE e.status = 'completed')::int AS completed
             FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id
            WHERE s.session_id = 'past-the-window' GROUP BY 1, 2`,
        );
        expect(rows).toEqual([{ status: 'active', end_reason: null, completed: 2 }]);
      },
      20_000,
      100,
    );
    expect(await a!.metric('millis_sessions_reclaimed_total')).toBe(1);
    expect(await b.metric('millis_crashed_sessions_closed_total')).toBe(1);

    await client.close();
    await eventually(async () => {
      const { rows } = await db.query(
        `SELECT status, end_reason FROM call_sessions WHERE session_id = 'past-the-window'`,
      );
      expect(rows).toEqual([{ status: 'ended', end_reason: 'connection_closed' }]);
    }, 20_000);
  }, 120_000);
});
