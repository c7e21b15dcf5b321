import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { ClusterBus } from '../../../src/cluster-bus/cluster-bus.service';
import { API_KEY } from '../../support/history-fixtures';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { proxiedTestDatabase, TcpProxy } from '../../support/tcp-proxy';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { LiveView, OneConnection } from '../../system/cluster/support/cluster-client';

function httpUrlOf(app: TestApp): string {
  return app.wsUrl.replace(/^ws:/, 'http:').replace(/\/llm-websocket$/, '');
}

/**
 * Two instances in one process (each its own app, bus and pools): A on Postgres directly, B
 * through a proxy that can take Postgres away from it. B's live view shows A's calls.
 */
describe("The live view shows other instances' calls, and catches up after a bus outage", () => {
  let fake: FakeLlmServer;
  let proxy: TcpProxy;
  let a: TestApp;
  let b: TestApp;
  let connection: OneConnection;
  let view: LiveView;
  const clients: MillisPlatformClient[] = [];

  beforeAll(async () => {
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 5 });
    await fake.start();
    const proxied = await proxiedTestDatabase();
    proxy = proxied.proxy;
    const env = { API_KEY, GREETING: 'Hi.' };
    a = await startTestApp({ env: { ...env, INSTANCE_NAME: 'live-a' }, fakeLlm: fake });
    b = await startTestApp({
      env: { ...env, INSTANCE_NAME: 'live-b', DATABASE_URL: proxied.url },
      fakeLlm: fake,
      keepData: true,
    });
    await eventually(() => expect([a, b].map((app) => app.app.get(ClusterBus).isConnected)).toEqual([true, true]));
    connection = new OneConnection(httpUrlOf(b));
    view = await LiveView.open(connection, API_KEY);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    view?.close();
    connection?.close();
    await b?.close();
    await a?.close();
    await proxy?.stop();
    await fake.stop();
  });

  it("shows a call on A in B's live view, and streams its reply there", async () => {
    const client = await MillisPlatformClient.connect(a.wsUrl);
    clients.push(client);
    client.startCall({ session_id: 'across-1', agent_id: 'desk' });
    await view.waitUntil(() => view.of('call_started', 'across-1').length === 1, 5_000, "A's call on B");
    expect(view.of('call_started', 'across-1')[0].data.call).toMatchObject({ agent_id: 'desk' });

    client.streamRequest(1, [{ role: 'user', content: 'tell me about the weather today' }]);
    const reply = await client.waitForEnd(1);
    await view.waitUntil(() => view.of('reply_finished', 'across-1', 1).length === 1, 5_000, 'the reply on B');
    expect(view.of('reply_finished', 'across-1', 1)[0].data.text).toBe(reply);
    // Streamed: B's view got the reply in pieces before it finished, and they add up to it.
    expect(view.of('reply_piece', 'across-1', 1).length).toBeGreaterThan(0);
    expect(view.piecesOf('across-1', 1)).toBe(reply);
  });

  it('after B lost Postgres, shows the calls A started and ends those A ended meanwhile', async () => {
    proxy.cut();
    await eventually(() => expect(b.app.get(ClusterBus).isConnected).toBe(false), 10_000);

    const second = await MillisPlatformClient.connect(a.wsUrl);
    clients.push(second);
    second.startCall({ session_id: 'across-2', agent_id: 'desk' });
    await second.waitForEnd(0);
    await clients[0].close();
    // Recorded by A, as B will read them.
    await eventually(async () => {
      const { rows } = await a.db.query(
        `SELECT session_id, status FROM call_sessions WHERE session_id IN ('across-1', 'across-2') ORDER BY 1`,
      );
      expect(rows).toEqual([
        { session_id: 'across-1', status: 'ended' },
        { session_id: 'across-2', status: 'active' },
      ]);
    });
    expect(view.of('call_started', 'across-2')).toHaveLength(0);
    expect(view.of('call_ended', 'across-1')).toHaveLength(0);

    proxy.restore();
    await view.waitUntil(
      () => view.of('call_started', 'across-2').length === 1 && view.of('call_ended', 'across-1').length === 1,
      20_000,
      'the catch-up',
    );
    expect(view.of('call_ended', 'across-1')[0].data.end_reason).toBe('connection_closed');
  });
});
