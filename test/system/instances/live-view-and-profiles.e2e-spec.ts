import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { eventually } from '../../support/eventually';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { connectOneByOne, LiveView, OneConnection } from '../cluster/support/cluster-client';
import { FreshDatabase, freshDatabase } from '../cluster/support/fresh-database';
import { ServiceProcess, spawnService, stopService } from '../support/service-process';

const API_KEY = 'instances-test-api-key-0123456789';
const AGENT = 'front-desk';

/**
 * Two instances on one database, as behind a load balancer: A runs two workers, B one process.
 * Everything between them goes through Postgres (LISTEN/NOTIFY); nothing is shared otherwise.
 */
describe('Several instances, one view', () => {
  let database: FreshDatabase;
  let fake: FakeLlmServer;
  let a: ServiceProcess;
  let b: ServiceProcess;
  const clients: MillisPlatformClient[] = [];

  beforeAll(async () => {
    database = await freshDatabase(`instances_view_${process.pid}`);
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 10 });
    await fake.start();
    const env = { DATABASE_URL: database.url, OPENAI_BASE_URL: fake.baseUrl, GREETING: 'Hi.', API_KEY };
    // A first: it runs the migrations on the empty database.
    a = await spawnService({ ...env, INSTANCE_NAME: 'instance-a' }, { workers: 2 });
    b = await spawnService({ ...env, INSTANCE_NAME: 'instance-b' });
    // Every process's bus listener is up (A's two workers and B).
    await eventually(
      async () => expect((await a.metric('millis_bus_connected'))! + (await b.metric('millis_bus_connected'))!).toBe(3),
      30_000,
      100,
    );
  }, 180_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stopService(a);
    await stopService(b);
    await fake?.stop();
    await database?.drop();
  });

  it("shows the calls of A's workers in the live view served by B, their replies streaming there", async () => {
    const connection = new OneConnection(b.httpUrl);
    const view = await LiveView.open(connection, API_KEY);
    try {
      // One by one, the primary hands them to its two workers in turn.
      const calls = await connectOneByOne(2, a.wsUrl);
      clients.push(...calls);
      const sessions = ['on-a-1', 'on-a-2'];
      calls.forEach((c, i) => c.startCall({ session_id: sessions[i], agent_id: AGENT }));
      await view.waitUntil(() => sessions.every((s) => view.of('call_started', s).length === 1), 10_000, "A's calls");
      const { rows } = await database.db.query<{ name: string }>(
        `SELECT DISTINCT i.name FROM call_sessions s JOIN service_instances i ON i.id = s.instance_id ORDER BY 1`,
      );
      expect(rows.map((r) => r.name)).toEqual(['instance-a/worker-1', 'instance-a/worker-2']);

      calls.forEach((c, i) =>
        c.streamRequest(1, [{ role: 'user', content: `caller ${i + 1} asks about the opening hours of the shop` }]),
      );
      const replies = await Promise.all(calls.map((c) => c.waitForEnd(1)));
      await view.waitUntil(
        () => sessions.every((s) => view.of('reply_finished', s, 1).length === 1),
        10_000,
        'the replies on B',
      );
      sessions.forEach((s, i) => {
        expect(view.of('reply_finished', s, 1)[0].data.text).toBe(replies[i]);
        // Streamed to B piece by piece, not only whole at the end.
        expect(view.of('reply_piece', s, 1).length).toBeGreaterThan(0);
        expect(view.piecesOf(s, 1)).toBe(replies[i]);
      });

      await Promise.all(calls.map((c) => c.close()));
      await view.waitUntil(() => sessions.every((s) => view.of('call_ended', s).length === 1), 10_000, 'the ends');
    } finally {
      view.close();
      connection.close();
    }
  });

  it("uses a profile edited on A in B's next call, within a second of the edit", async () => {
    const put = (systemPrompt: string) =>
      fetch(`${a.httpUrl}/api/agents/${AGENT}`, {
        method: 'PUT',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ system_prompt: systemPrompt }),
      });
    /** A call on B: the system prompt its first reply was asked with. */
    const promptOfACallOnB = async (sessionId: string): Promise<string> => {
      const client = await MillisPlatformClient.connect(b.wsUrl);
      clients.push(client);
      const before = fake.requests.length;
      client.startCall({ session_id: sessionId, agent_id: AGENT });
      client.streamRequest(1, [{ role: 'user', content: 'hello' }]);
      await client.waitForEnd(1);
      await client.close();
      // Calls on B run one at a time: the last request is this call's reply.
      const request = fake.requests.slice(before).at(-1)!;
      const system = request.body.messages?.find((m) => m.role === 'system');
      return typeof system?.content === 'string' ? system.content : '';
    };

    expect((await put('You are the old front desk.')).status).toBeLessThan(300);
    // B has the profile cached (its next calls would use it for AGENT_PROFILE_CACHE_TTL_MS).
    await eventually(
      async () => expect(await promptOfACallOnB(`b-old-${Date.now()}`)).toBe('You are the old front desk.'),
      10_000,
      50,
    );

    expect((await put('You are the new front desk.')).status).toBe(200);
    const edited = performance.now();
    let call = 0;
    const usedAfterMs = await eventually(
      async () => {
        const startedAfterMs = performance.now() - edited;
        expect(await promptOfACallOnB(`b-new-${++call}`)).toBe('You are the new front desk.');
        return startedAfterMs;
      },
      10_000,
      10,
    );
    console.log(`B's first call with the edited profile started ${Math.round(usedAfterMs)} ms after the edit on A`);
    // The feature itself (the bound): the edit -> NOTIFY -> cache drop path takes milliseconds.
    expect(usedAfterMs).toBeLessThan(1_000);
  });
});
