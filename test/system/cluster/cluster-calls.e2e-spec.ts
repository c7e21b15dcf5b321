import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import {
  getOnNewConnection,
  inBatches,
  METRICS_TOKEN,
  readMetric,
  ServiceProcess,
  spawnService,
  stopService,
} from '../support/service-process';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually } from '../../support/eventually';
import { FreshDatabase, freshDatabase } from './support/fresh-database';
import { connectOneByOne, LiveView, logRecords, OneConnection, readyWorkers, slotOf } from './support/cluster-client';

const API_KEY = 'cluster-test-api-key-0123456789';
const GREETING = 'Hello from the cluster.';
const CALLS = 60;
const TURNS = 2;

/**
 * WORKERS=2 as production runs it: a primary and two worker processes sharing the port, on an
 * empty database of their own, with real sockets and the fake LLM in this process.
 */
describe('WORKERS=2', () => {
  let database: FreshDatabase;
  let fake: FakeLlmServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    database = await freshDatabase(`cluster_calls_${process.pid}`);
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 2 });
    await fake.start();
    service = await spawnService(
      {
        DATABASE_URL: database.url,
        OPENAI_BASE_URL: fake.baseUrl,
        GREETING,
        API_KEY,
        LOG_LEVEL: 'log',
        LOG_FORMAT: 'json',
      },
      { workers: 2 },
    );
  }, 120_000);
  afterAll(async () => {
    await stopService(service);
    await fake?.stop();
    await database?.drop();
  });

  /** Each session's worker, from the instance that stamped it (`host:port/worker-N`). */
  async function workerOfEachSession(): Promise<Map<string, number>> {
    const { rows } = await database.db.query<{ session_id: string; name: string }>(
      `SELECT s.session_id, i.name FROM call_sessions s JOIN service_instances i ON i.id = s.instance_id`,
    );
    return new Map(rows.map((row) => [row.session_id, slotOf(row.name)]));
  }

  it('runs the migrations once, in the primary, before the workers start', async () => {
    const primary = service.child.pid;
    const workers = [...readyWorkers(service).values()];
    expect(workers).toHaveLength(2);
    const migrationLines = logRecords(service).filter((record) => record.context === 'Migrations');
    expect(migrationLines).toEqual([
      expect.objectContaining({ pid: primary, msg: expect.stringMatching(/^Applied InitialSchema\d+, /) }),
    ]);
    expect(workers).not.toContain(primary);

    const { rows } = await database.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT name)::int AS distinct FROM schema_migrations`,
    );
    expect(rows[0].n).toBe(rows[0].distinct);
  });

  it('answers many calls on both workers and stores every row, each worker an instance of its own', async () => {
    const clients = await inBatches(CALLS, 20, () => MillisPlatformClient.connect(service.wsUrl));
    clients.forEach((c, i) =>
      c.startCall({ session_id: `cluster-${i}`, voip: { from: `+1999${i % 10}`, to: '+19990000' } }),
    );
    expect(await Promise.all(clients.map((c) => c.waitForEnd(0, 10_000)))).toEqual(Array(CALLS).fill(GREETING));
    for (let turn = 1; turn <= TURNS; turn++) {
      clients.forEach((c, i) => c.streamRequest(turn, [{ role: 'user', content: `call ${i} turn ${turn}` }]));
      const replies = await Promise.all(clients.map((c) => c.waitForEnd(turn, 10_000)));
      expect(replies).toEqual(clients.map((_, i) => `You said: call ${i} turn ${turn}.`));
    }
    await Promise.all(clients.map((c) => c.close()));

    await eventually(async () => {
      const { rows } = await database.db.query(`
        SELECT (SELECT count(*)::int FROM call_sessions WHERE status = 'ended' AND end_reason = 'connection_closed') AS sessions,
               (SELECT count(*)::int FROM stream_exchanges WHERE status = 'completed') AS exchanges,
               (SELECT count(*)::int FROM (SELECT call_session_id, stream_id FROM stream_exchanges GROUP BY 1, 2 HAVING count(*) > 1) d) AS duplicates,
               (SELECT count(*)::int FROM phone_numbers) AS phones`);
      expect(rows[0]).toEqual({ sessions: CALLS, exchanges: CALLS * (TURNS + 1), duplicates: 0, phones: 11 });
    }, 15_000);

    // The calls landed on both workers: each stamped its sessions with an instance of its own, named after its slot.
    const workerOf = await workerOfEachSession();
    const perWorker = [1, 2].map((slot) => [...workerOf.values()].filter((s) => s === slot).length);
    console.log(`WORKERS=2: ${CALLS} calls, ${perWorker.join(' and ')} per worker`);
    expect(perWorker.every((n) => n > 0)).toBe(true);
    expect(perWorker[0] + perWorker[1]).toBe(CALLS);
    const { rows: instances } = await database.db.query(
      `SELECT count(DISTINCT instance_id)::int AS n FROM call_sessions`,
    );
    expect(instances[0].n).toBe(2);
    // Neither worker took the other for a dead instance.
    const { rows: crashed } = await database.db.query(
      `SELECT count(*)::int AS n FROM call_sessions WHERE end_reason = 'crashed'`,
    );
    expect(crashed[0].n).toBe(0);
  });

  it('reports the totals of the whole cluster on /metrics, whichever worker is scraped, behind the metrics token', async () => {
    const scraped = new Set<number>();
    for (let attempt = 0; scraped.size < 2 && attempt < 20; attempt++) {
      const connection = new OneConnection(service.httpUrl);
      try {
        const worker = await connection.worker();
        expect((await connection.get('/metrics')).status).toBe(401);
        const { status, body } = await connection.get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
        expect(status).toBe(200);
        const sum = (name: string) =>
          body
            .split('\n')
            .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
            .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
        expect(sum('millis_calls_started_total')).toBe(CALLS);
        expect(sum('millis_calls_ended_total')).toBe(CALLS);
        expect(readMetric(body, 'millis_reply_duration_seconds_count{status="completed"}')).toBe(CALLS * (TURNS + 1));
        expect(readMetric(body, 'millis_calls_active')).toBe(0);
        expect(readMetric(body, 'millis_cluster_workers')).toBe(2);
        expect(readMetric(body, 'millis_cluster_worker_restarts_total')).toBe(0);
        // A bound each worker applies to itself, not a sum.
        expect(readMetric(body, 'millis_audit_queue_bound')).toBe(500_000);
        scraped.add(worker);
      } finally {
        connection.close();
      }
    }
    expect([...scraped].sort()).toEqual([1, 2]);
  });

  it("shows every worker's calls in the live view of any worker, with the reply pieces streamed while it is open", async () => {
    const sessions = Array.from({ length: 6 }, (_, i) => `live-${i}`);
    const clients = await connectOneByOne(sessions.length, service.wsUrl);
    clients.forEach((c, i) => c.startCall({ session_id: sessions[i] }));
    await Promise.all(clients.map((c) => c.waitForEnd(0)));

    // Opened mid-call, with no live view open anywhere until now: no pieces were produced, and the
    // snapshot still has every call of both workers with the greeting whole.
    const connection = new OneConnection(service.httpUrl);
    const viewWorker = await connection.worker();
    const view = await LiveView.open(connection, API_KEY);
    try {
      const inSnapshot = view.snapshot.filter((call) => sessions.includes(call.session_id));
      expect(inSnapshot.map((call) => call.session_id).sort()).toEqual([...sessions].sort());
      for (const call of inSnapshot)
        expect(call.turns).toEqual([
          expect.objectContaining({ stream_id: 0, kind: 'greeting', status: 'completed', text: GREETING }),
        ]);

      // The other worker produces pieces once it has heard that a view is open: wait until it does.
      clients.forEach((c, i) => c.streamRequest(1, [{ role: 'user', content: `first question ${i}` }]));
      await view.waitUntil(() => sessions.every((s) => view.piecesOf(s, 1).length > 0), 10_000, 'pieces of every call');
      await Promise.all(clients.map((c) => c.waitForEnd(1)));

      const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
      clients.forEach((c, i) => c.streamRequest(2, [{ role: 'user', content: `${words} ${i}` }]));
      const replies = await Promise.all(clients.map((c) => c.waitForEnd(2, 10_000)));
      await view.waitUntil(
        () => sessions.every((s) => view.of('reply_finished', s, 2).length === 1),
        10_000,
        'the end of every reply',
      );

      const workerOf = await workerOfEachSession();
      const elsewhere = sessions.filter((s) => workerOf.get(s) !== viewWorker);
      expect(elsewhere.length).toBeGreaterThan(0);
      console.log(
        `live view on worker ${viewWorker}: ${elsewhere.length} of ${sessions.length} calls served by the other worker`,
      );
      sessions.forEach((session, i) => {
        expect(view.of('reply_piece', session, 2).length).toBeGreaterThan(1);
        expect(view.piecesOf(session, 2)).toBe(replies[i]);
        expect(view.of('reply_finished', session, 2)[0].data).toMatchObject({ status: 'completed', text: replies[i] });
      });

      await Promise.all(clients.map((c) => c.close()));
      await view.waitUntil(
        () => sessions.every((s) => view.of('call_ended', s).length === 1),
        10_000,
        'the end of every call',
      );
    } finally {
      view.close();
      connection.close();
    }
  });

  it('gives /health/live the slot of the worker that answered', async () => {
    const slots = new Set<number>();
    for (let attempt = 0; slots.size < 2 && attempt < 20; attempt++) {
      slots.add(JSON.parse((await getOnNewConnection(`${service.httpUrl}/health/live`)).body).worker);
    }
    expect([...slots].sort()).toEqual([1, 2]);
  });
});
