import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import {
  getOnNewConnection,
  METRICS_TOKEN,
  readMetric,
  ServiceProcess,
  spawnService,
  stopService,
} from '../support/service-process';
import { eventually } from '../../support/eventually';
import { testPool, truncateAuditTables } from '../../support/test-database';
import {
  alive,
  connectOneByOne,
  LiveView,
  logRecords,
  OneConnection,
  readyWorkers,
  slotOf,
} from './support/cluster-client';
import type { Pool } from 'pg';

const API_KEY = 'cluster-test-api-key-0123456789';
const CALLS = 8;

describe('WORKERS=2, a worker killed (SIGKILL)', () => {
  let db: Pool;
  let fake: FakeLlmServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    db = testPool();
    await truncateAuditTables(db);
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 2 });
    await fake.start();
    // The default heartbeat: another worker would only close the dead one's calls after 15 s.
    service = await spawnService(
      { OPENAI_BASE_URL: fake.baseUrl, GREETING: 'Hi.', API_KEY, LOG_LEVEL: 'log', LOG_FORMAT: 'json' },
      { workers: 2 },
    );
  }, 120_000);
  afterAll(async () => {
    await stopService(service);
    await fake?.stop();
    await db?.end();
  });

  const callsOn = async (sessions: string[]): Promise<Map<string, { slot: number; instance: string }>> => {
    const { rows } = await db.query<{ session_id: string; name: string; instance_id: string }>(
      `SELECT s.session_id, i.name, s.instance_id FROM call_sessions s JOIN service_instances i ON i.id = s.instance_id WHERE s.session_id = ANY($1)`,
      [sessions],
    );
    return new Map(rows.map((row) => [row.session_id, { slot: slotOf(row.name), instance: row.instance_id }]));
  };

  it('is replaced; its calls are closed as crashed at once and ended in the live view; the other calls and new ones go on', async () => {
    const sessions = Array.from({ length: CALLS }, (_, i) => `crash-${i}`);
    const clients = await connectOneByOne(CALLS, service.wsUrl);
    clients.forEach((c, i) => c.startCall({ session_id: sessions[i] }));
    await Promise.all(clients.map((c) => c.waitForEnd(0)));
    clients.forEach((c, i) => c.streamRequest(1, [{ role: 'user', content: `before ${i}` }]));
    await Promise.all(clients.map((c) => c.waitForEnd(1)));
    const before = await eventually(async () => {
      const placed = await callsOn(sessions);
      expect(placed.size).toBe(CALLS);
      return placed;
    });

    // A live view on the worker that survives.
    const connection = new OneConnection(service.httpUrl);
    const survivor = await connection.worker();
    const view = await LiveView.open(connection, API_KEY);
    const victim = survivor === 1 ? 2 : 1;
    const doomed = sessions.filter((s) => before.get(s)!.slot === victim);
    const spared = sessions.filter((s) => before.get(s)!.slot === survivor);
    expect(doomed.length).toBeGreaterThan(0);
    expect(spared.length).toBeGreaterThan(0);

    const victimPid = readyWorkers(service).get(victim)!;
    process.kill(victimPid, 'SIGKILL');
    try {
      // Its calls' sockets went with it; the live view of the other worker ends them.
      await Promise.all(
        doomed.map((s) =>
          clients[sessions.indexOf(s)].waitUntil(
            () => clients[sessions.indexOf(s)].closeCode !== null,
            5_000,
            'the socket to close',
          ),
        ),
      );
      await view.waitUntil(
        () => doomed.every((s) => view.of('call_ended', s).length === 1),
        5_000,
        "the dead worker's calls to end",
      );
      for (const s of doomed) expect(view.of('call_ended', s)[0].data.end_reason).toBe('crashed');
      expect(spared.every((s) => view.of('call_ended', s).length === 0)).toBe(true);

      // A new worker takes the slot, under the same instance name: it closes its predecessor's calls as it starts.
      await eventually(() => expect(readyWorkers(service).get(victim)).not.toBe(victimPid), 60_000, 100);
      const replacement = readyWorkers(service).get(victim)!;
      expect(alive(victimPid)).toBe(false);
      expect(
        logRecords(service).some(
          (r) => r.msg === `Worker ${victim} (pid ${victimPid}) exited unexpectedly (signal SIGKILL); replacing it`,
        ),
      ).toBe(true);
      await eventually(async () => {
        const { rows } = await db.query(
          `SELECT session_id, status, end_reason FROM call_sessions WHERE session_id = ANY($1) ORDER BY session_id`,
          [doomed],
        );
        expect(rows).toEqual(
          doomed.sort().map((session_id) => ({ session_id, status: 'ended', end_reason: 'crashed' })),
        );
      }, 5_000);
      const { rows: streaming } = await db.query(
        `SELECT count(*)::int AS n FROM stream_exchanges WHERE status = 'streaming'`,
      );
      expect(streaming[0].n).toBe(0);

      // The calls on the other worker never noticed.
      spared.forEach((s) => clients[sessions.indexOf(s)].streamRequest(2, [{ role: 'user', content: `after ${s}` }]));
      for (const s of spared) expect(await clients[sessions.indexOf(s)].waitForEnd(2)).toBe(`You said: after ${s}.`);

      // New calls land on both workers again, the replacement an instance of its own.
      const newSessions = Array.from({ length: CALLS }, (_, i) => `after-crash-${i}`);
      const newClients = await connectOneByOne(CALLS, service.wsUrl);
      newClients.forEach((c, i) => c.startCall({ session_id: newSessions[i] }));
      expect(await Promise.all(newClients.map((c) => c.waitForEnd(0)))).toEqual(Array(CALLS).fill('Hi.'));
      const after = await eventually(async () => {
        const placed = await callsOn(newSessions);
        expect(placed.size).toBe(CALLS);
        return placed;
      });
      const onReplacement = newSessions.filter((s) => after.get(s)!.slot === victim);
      expect(onReplacement.length).toBeGreaterThan(0);
      expect(after.get(onReplacement[0])!.instance).not.toBe(before.get(doomed[0])!.instance);
      console.log(
        `worker ${victim} (pid ${victimPid}) replaced by pid ${replacement}: ${doomed.length} calls closed as crashed, ${onReplacement.length} new calls on it`,
      );

      const { body } = await getOnNewConnection(`${service.httpUrl}/metrics`, {
        authorization: `Bearer ${METRICS_TOKEN}`,
      });
      expect(readMetric(body, 'millis_cluster_worker_restarts_total')).toBe(1);
      expect(readMetric(body, 'millis_cluster_workers')).toBe(2);
      expect(readMetric(body, 'millis_crashed_sessions_closed_total')).toBe(doomed.length);

      await Promise.all([...clients, ...newClients].map((c) => c.close()));
    } finally {
      view.close();
      connection.close();
    }
  });
});
