import request from 'supertest';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { rawUpgrade } from '../../support/raw-http';

const WS_TOKEN = 'ws-token-for-security-tests';
const API_KEY = 'api-key-for-security-tests';
const METRICS_TOKEN = 'metrics-token-for-security-tests';

describe('Security at the edge', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        WS_AUTH_TOKEN: WS_TOKEN,
        API_KEY,
        METRICS_TOKEN,
        GREETING: 'Hi.',
        MAX_CALLS: '3',
        WS_MAX_FRAMES_PER_SECOND: '20',
        WS_FRAME_BURST: '20',
      },
    });
  });
  afterAll(() => t.close());

  const http = () => request(t.app.getHttpServer());
  const connect = () => MillisPlatformClient.connect(t.wsUrl, { token: WS_TOKEN });
  const metrics = async () =>
    (await http().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200)).text;

  it('refuses an upgrade without the token with a bare 401: no socket, nothing else said', async () => {
    const answer = await rawUpgrade(t.wsUrl);
    expect(answer.status).toBe(401);
    expect(answer.body).toBe('Unauthorized');
    expect(answer.headers['sec-websocket-accept']).toBeUndefined();
    expect(JSON.stringify(answer.headers)).not.toMatch(/nest|express|x-powered-by/i);
  });

  it('caps concurrent calls at MAX_CALLS with 503 at the upgrade, and counts it', async () => {
    const clients = await Promise.all([connect(), connect(), connect()]);
    const refused = await rawUpgrade(`${t.wsUrl}?token=${WS_TOKEN}`);
    expect(refused).toMatchObject({ status: 503, body: 'Service Unavailable' });
    // Authentication is checked first: a stranger does not learn that we are full.
    expect((await rawUpgrade(t.wsUrl)).status).toBe(401);

    await clients[0].close();
    const again = await eventually(() => connect(), 2000);
    again.startCall({ session_id: 'sec-capacity' });
    expect(await again.waitForEnd(0)).toBe('Hi.');
    await Promise.all([again, ...clients].map((c) => c.close()));
    expect(await metrics()).toMatch(/millis_calls_refused_total\{reason="capacity"\} [1-9]/);
  });

  it('drops frames over the rate limit and records them as one summary per second', async () => {
    const client = await connect();
    client.startCall({ session_id: 'sec-rate' });
    await client.waitForEnd(0);
    const SENT = 300;
    for (let i = 0; i < SENT; i++) {
      client.send({
        type: 'partial_transcript',
        data: { session_id: 'sec-rate', transcript: `word ${i}`, is_final: false },
      });
    }
    // The drops are summed up once the window has passed, while the call is still open.
    await eventually(
      () => expect(metrics()).resolves.toMatch(/millis_frames_rejected_total\{reason="rate_limited"\} [1-9]/),
      3000,
    );
    expect(client.isOpen).toBe(true);
    await client.close();

    const counts = await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT count(*) FILTER (WHERE e.type = 'partial_transcript')::int AS handled,
                count(*) FILTER (WHERE e.payload->>'reason' = 'rate_limited')::int AS summaries,
                coalesce(sum((e.payload->'received'->>'dropped')::int) FILTER (WHERE e.payload->>'reason' = 'rate_limited'), 0)::int AS dropped
           FROM call_events e JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id = 'sec-rate'`,
      );
      expect(rows[0].handled + rows[0].dropped).toBe(SENT);
      return rows[0];
    });
    // The burst (20, the start_call took one) plus what refilled while sending; the rest dropped.
    expect(counts.handled).toBeGreaterThanOrEqual(19);
    expect(counts.handled).toBeLessThan(60);
    expect(counts.summaries).toBeGreaterThanOrEqual(1);
    expect(counts.summaries).toBeLessThanOrEqual(3);
    expect(await metrics()).toMatch(
      new RegExp(`millis_frames_rejected_total\\{reason="rate_limited"\\} ${counts.dropped}\\b`),
    );
  });

  it('sends helmet headers on HTTP responses', async () => {
    for (const res of [await http().get('/health/live'), await http().get('/api/calls')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('requires API_KEY on the REST API and METRICS_TOKEN on /metrics', async () => {
    await http().get('/api/calls').expect(401);
    await http().get('/api/calls').set('x-api-key', API_KEY).expect(200);
    await http().get('/metrics').expect(401);
    await http().get('/metrics').set('Authorization', `Bearer ${API_KEY}`).expect(401);
    expect(await metrics()).toContain('millis_calls_active');
  });
});

describe('WS_ALLOWED_IPS', () => {
  const ALLOWED = '10.9.0.0/16, 2001:db8::/32';

  it('checks the socket address, ignoring X-Forwarded-For unless TRUSTED_PROXY is on', async () => {
    const t = await startTestApp({ env: { WS_ALLOWED_IPS: ALLOWED, GREETING: 'Hi.' } });
    try {
      expect(await rawUpgrade(t.wsUrl)).toMatchObject({ status: 403, body: 'Forbidden' });
      expect((await rawUpgrade(t.wsUrl, { 'X-Forwarded-For': '10.9.1.1' })).status).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('behind a trusted proxy, uses the address the proxy appended', async () => {
    const t = await startTestApp({ env: { WS_ALLOWED_IPS: ALLOWED, TRUSTED_PROXY: 'true', GREETING: 'Hi.' } });
    try {
      expect((await rawUpgrade(t.wsUrl, { 'X-Forwarded-For': '10.9.1.1' })).status).toBe(101);
      expect((await rawUpgrade(t.wsUrl, { 'X-Forwarded-For': '198.51.100.1, 2001:db8::7' })).status).toBe(101);
      // A client cannot smuggle an allowed address in front of its real one.
      expect((await rawUpgrade(t.wsUrl, { 'X-Forwarded-For': '10.9.1.1, 203.0.113.5' })).status).toBe(403);
      expect((await rawUpgrade(t.wsUrl)).status).toBe(403);
      const client = await MillisPlatformClient.connect(t.wsUrl, { headers: { 'X-Forwarded-For': '10.9.200.3' } });
      client.startCall({ session_id: 'sec-proxied' });
      expect(await client.waitForEnd(0)).toBe('Hi.');
      await client.close();
    } finally {
      await t.close();
    }
  });
});
