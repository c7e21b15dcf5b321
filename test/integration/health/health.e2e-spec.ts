import request from 'supertest';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { proxiedTestDatabase, TcpProxy } from '../../support/tcp-proxy';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

describe('/health/live', () => {
  let proxy: TcpProxy;
  let t: TestApp;

  beforeAll(async () => {
    const database = await proxiedTestDatabase();
    proxy = database.proxy;
    t = await startTestApp({ env: { DATABASE_URL: database.url, GREETING: 'Hi.' } });
  });
  afterAll(async () => {
    proxy.restore();
    await t.close();
    await proxy.stop();
  });

  it('shows counters to anyone, never the audit error text', async () => {
    proxy.cut();
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'health-live-1' });
    await client.waitForEnd(0);
    await eventually(() => expect(t.audit.getStats().lastError).toEqual(expect.any(String)), 10_000);

    const { body, text } = await request(t.app.getHttpServer()).get('/health/live').expect(200);
    expect(body).toEqual({
      status: 'ok',
      activeCalls: 1,
      draining: false,
      audit: {
        backlog: expect.any(Number),
        peakBacklog: expect.any(Number),
        rowsWritten: expect.any(Number),
        flushes: expect.any(Number),
        failedFlushes: expect.any(Number),
        deadLettered: 0,
      },
    });
    expect(body.audit.failedFlushes).toBeGreaterThan(0);
    expect(text).not.toContain(t.audit.getStats().lastError!.slice(0, 20));
    await client.close();
  });
});
