import request from 'supertest';
import { startTestApp, TestApp } from '../../support/test-app';

const API_KEY = 'webhooks-test-key-0123456789';

describe('/api/webhooks', () => {
  let t: TestApp;
  const api = () => request(t.app.getHttpServer());
  const auth = { 'x-api-key': API_KEY };

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY, WEBHOOK_ALLOW_PRIVATE_URLS: 'true' } });
    await t.db.query('DELETE FROM webhook_endpoints');
  });
  afterAll(() => t.close());

  it('refuses requests without the API key', async () => {
    await api().get('/api/webhooks').expect(401);
    await api().post('/api/webhooks').send({ url: 'http://127.0.0.1:1/x' }).expect(401);
    await api().get('/api/webhooks/deliveries').expect(401);
  });

  it('returns the secret once, at creation, and never again', async () => {
    const created = await api()
      .post('/api/webhooks')
      .set(auth)
      .send({ url: 'http://127.0.0.1:9/hooks', description: 'CRM' })
      .expect(201);
    expect(created.body).toMatchObject({
      id: expect.any(String),
      url: 'http://127.0.0.1:9/hooks',
      description: 'CRM',
      agent_id: null,
      events: ['call.started', 'call.ended', 'call.analyzed'],
      enabled: true,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/),
    });
    const { id, secret } = created.body as { id: string; secret: string };

    const read = await api().get(`/api/webhooks/${id}`).set(auth).expect(200);
    const listed = await api().get('/api/webhooks').set(auth).expect(200);
    const patched = await api().patch(`/api/webhooks/${id}`).set(auth).send({ description: 'CRM sync' }).expect(200);
    for (const body of [read.body, listed.body, patched.body]) {
      expect(JSON.stringify(body)).not.toContain(secret);
      expect(JSON.stringify(body)).not.toContain('secret"');
    }
    expect(patched.body).toMatchObject({ description: 'CRM sync', url: 'http://127.0.0.1:9/hooks' });
    expect(listed.body.map((e: { id: string }) => e.id)).toContain(id);

    const rotated = await api().post(`/api/webhooks/${id}/rotate-secret`).set(auth).send({}).expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);
    expect(Date.parse(rotated.body.previous_secret_expires_at)).toBeGreaterThan(Date.now());
    expect(JSON.stringify((await api().get(`/api/webhooks/${id}`).set(auth).expect(200)).body)).not.toContain(
      rotated.body.secret,
    );
  });

  it('makes per-agent endpoints, global again with agent_id null, and deletes them', async () => {
    const created = await api()
      .post('/api/webhooks')
      .set(auth)
      .send({ url: 'http://127.0.0.1:9/agent', agent_id: 'agent-a', events: ['call.ended'] })
      .expect(201);
    const { id } = created.body as { id: string };
    expect(created.body).toMatchObject({ agent_id: 'agent-a', events: ['call.ended'] });
    const forAgent = await api().get('/api/webhooks?agent_id=agent-a').set(auth).expect(200);
    expect(forAgent.body.map((e: { id: string }) => e.id)).toEqual([id]);

    const global = await api().patch(`/api/webhooks/${id}`).set(auth).send({ agent_id: null }).expect(200);
    expect(global.body.agent_id).toBeNull();

    await api().delete(`/api/webhooks/${id}`).set(auth).expect(204);
    await api().get(`/api/webhooks/${id}`).set(auth).expect(404);
    await api().delete(`/api/webhooks/${id}`).set(auth).expect(404);
  });

  it.each([
    ['no url', {}, 'url must be a string'],
    ['a relative url', { url: '/hooks' }, 'url must be an absolute http(s) URL'],
    ['another scheme', { url: 'ftp://example.com/x' }, 'url must use https (or http)'],
    ['credentials in the url', { url: 'https://user:pw@example.com/x' }, 'url must not contain credentials'],
    [
      'an unknown event',
      { url: 'http://127.0.0.1:9/x', events: ['call.paused'] },
      'events must be a non-empty list of',
    ],
    ['no events', { url: 'http://127.0.0.1:9/x', events: [] }, 'events must be a non-empty list of'],
    ['an unknown field', { url: 'http://127.0.0.1:9/x', event: 'call.ended' }, 'property event should not exist'],
    ['an empty agent id', { url: 'http://127.0.0.1:9/x', agent_id: '' }, 'agent_id must not be empty'],
  ])('refuses %s with a clear 400', async (_name, body, message) => {
    const res = await api().post('/api/webhooks').set(auth).send(body).expect(400);
    expect(JSON.stringify(res.body.message)).toContain(message);
  });

  it('answers 404 for an unknown endpoint and 400 for an id that is not a UUID', async () => {
    await api().get('/api/webhooks/3f1c2b6e-9a0d-4c4e-8f51-0d7f3f1a2b3c').set(auth).expect(404);
    const res = await api().get('/api/webhooks/not-a-uuid').set(auth).expect(400);
    expect(res.body.message).toBe('id must be a UUID');
  });

  it('validates the delivery log filters', async () => {
    await api().get('/api/webhooks/deliveries').set(auth).expect(200, { items: [], next_cursor: null });
    const bad = await api().get('/api/webhooks/deliveries?status=lost&limit=0').set(auth).expect(400);
    expect(JSON.stringify(bad.body.message)).toContain('status must be one of: pending, delivered, failed');
    expect(JSON.stringify(bad.body.message)).toContain('limit must be at least 1');
    await api().get('/api/webhooks/deliveries?cursor=abc').set(auth).expect(400);
  });
});

describe('/api/webhooks outside WEBHOOK_ALLOW_PRIVATE_URLS', () => {
  let t: TestApp;
  const auth = { 'x-api-key': API_KEY };

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY } });
  });
  afterAll(() => t.close());

  it.each([
    ['http', 'http://example.com/hooks', 'url must use https'],
    ['loopback', 'https://127.0.0.1/hooks', 'loopback, private or reserved'],
    ['a private address', 'https://10.1.2.3/hooks', 'loopback, private or reserved'],
    ['cloud metadata', 'https://169.254.169.254/latest', 'loopback, private or reserved'],
    ['an IPv6 loopback', 'https://[::1]/hooks', 'loopback, private or reserved'],
    ['localhost', 'https://localhost/hooks', 'loopback, private or reserved'],
  ])('refuses %s', async (_name, url, message) => {
    const res = await request(t.app.getHttpServer()).post('/api/webhooks').set(auth).send({ url }).expect(400);
    expect(res.body.message).toContain(message);
  });
});
