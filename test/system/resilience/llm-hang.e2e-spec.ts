import net from 'node:net';
import { Pool } from 'pg';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually } from '../../support/eventually';
import { testPool, truncateAuditTables } from '../../support/test-database';
import { ServiceProcess, spawnService, stopService } from '../support/service-process';

const TIMEOUT_MS = 700;
const FALLBACK = 'Sorry, one moment please.';

describe('An LLM that hangs without sending a byte', () => {
  let silent: net.Server;
  const held: net.Socket[] = [];
  let service: ServiceProcess | undefined;
  let db: Pool;

  beforeAll(async () => {
    db = testPool();
    await truncateAuditTables(db);
    // Accepts the connection, reads the request, never answers: not even headers.
    silent = net.createServer((socket) => {
      held.push(socket);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await stopService(service);
    held.forEach((s) => s.destroy());
    await new Promise((resolve) => silent.close(resolve));
    await db.end();
  });

  it('gives up after LLM_TIMEOUT_MS and the caller hears the fallback; the call goes on', async () => {
    const { port } = silent.address() as net.AddressInfo;
    service = await spawnService({
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
      LLM_TIMEOUT_MS: String(TIMEOUT_MS),
      GREETING: 'Hello.',
      FALLBACK_MESSAGE: FALLBACK,
    });
    const client = await MillisPlatformClient.connect(service.wsUrl);
    client.startCall({ session_id: 'hang-1' });
    await client.waitForEnd(0);

    for (const streamId of [1, 2]) {
      const asked = Date.now();
      client.streamRequest(streamId, [{ role: 'user', content: `are you there ${streamId}?` }]);
      expect(await client.waitForEnd(streamId, TIMEOUT_MS + 3000)).toBe(FALLBACK);
      const waited = Date.now() - asked;
      expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(waited).toBeLessThan(TIMEOUT_MS + 1000);
    }
    expect(client.isOpen).toBe(true);
    expect(await service.metric('millis_llm_errors_total{cause="timeout"}')).toBe(2);
    await client.close();

    await eventually(async () => {
      const { rows } = await db.query(
        `SELECT e.stream_id, e.status, e.error, e.response_text FROM stream_exchanges e
           JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id = 'hang-1' AND e.kind = 'reply' ORDER BY e.stream_id`,
      );
      expect(rows).toEqual(
        [1, 2].map((id) => ({
          stream_id: id,
          status: 'failed',
          error: `no first token within ${TIMEOUT_MS} ms`,
          response_text: FALLBACK,
        })),
      );
    });
  });
});
