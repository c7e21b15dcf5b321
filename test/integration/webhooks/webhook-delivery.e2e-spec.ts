import request from 'supertest';
import { CallRetentionRepository } from '../../../src/call-records/call-retention.repository';
import { RetentionService } from '../../../src/retention/retention.service';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { deliveriesOf, documentedVerifier, FAST_WEBHOOK_ENV, placeCall } from '../../support/webhook-test-kit';

const API_KEY = 'webhook-delivery-key-0123456789';
const METRICS_TOKEN = 'webhook-metrics-token-0123456789';
const verifyWebhook = documentedVerifier();

describe('Webhook deliveries', () => {
  let t: TestApp;
  const receivers: WebhookReceiver[] = [];
  const api = () => request(t.app.getHttpServer());
  const auth = { 'x-api-key': API_KEY };

  async function receiver(status = 200): Promise<WebhookReceiver> {
    const r = new WebhookReceiver();
    r.status = status;
    await r.start();
    receivers.push(r);
    return r;
  }

  async function endpoint(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    return (await api().post('/api/webhooks').set(auth).send(body).expect(201)).body as { id: string; secret: string };
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY, METRICS_TOKEN, ...FAST_WEBHOOK_ENV } });
    await t.db.query('DELETE FROM webhook_endpoints');
  });
  afterEach(async () => {
    await t.db.query('DELETE FROM webhook_endpoints');
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });
  afterAll(() => t.close());

  it('delivers call.started and call.ended, signed so that the documented snippet verifies them', async () => {
    const hooks = await receiver();
    const { secret } = await endpoint({ url: hooks.url, agent_id: 'agent-signed' });
    await placeCall(t.wsUrl, 'wh-signed-1', 'agent-signed');

    await eventually(() => expect(hooks.received).toHaveLength(2), 15_000);
    const events = hooks.received.map((r) => verifyWebhook(secret, r.headers, r.body));
    const ended = events.find((e) => e.type === 'call.ended')!;
    expect(events.map((e) => e.type).sort()).toEqual(['call.ended', 'call.started']);
    expect(ended).toMatchObject({
      id: expect.any(String),
      created_at: expect.any(String),
      data: {
        call: {
          session_id: 'wh-signed-1',
          agent_id: 'agent-signed',
          from_number: '+15550100',
          to_number: '+15550199',
          metadata: { customer: 'Ada Lovelace' },
          status: 'ended',
          end_reason: 'connection_closed',
          redacted: false,
        },
        transcript: expect.arrayContaining([
          expect.objectContaining({ speaker: 'caller', text: 'I would like to book a table for two' }),
          expect.objectContaining({ speaker: 'agent' }),
        ]),
      },
    });
    const raw = hooks.forType('call.ended')[0];
    expect(raw.headers['webhook-id']).toBe(ended.id);
    expect(raw.headers['webhook-signature']).toMatch(/^v1=[0-9a-f]{64}$/);

    // The snippet refuses what it must: another secret, a changed body, a timestamp outside the replay window.
    expect(() => verifyWebhook('whsec_other', raw.headers, raw.body)).toThrow('invalid signature');
    expect(() => verifyWebhook(secret, raw.headers, raw.body.replace('Ada', 'Eve'))).toThrow('invalid signature');
    const signedAt = Number(raw.headers['webhook-timestamp']);
    expect(() => verifyWebhook(secret, raw.headers, raw.body, signedAt + 301)).toThrow('replay window');

    await eventually(async () =>
      expect((await deliveriesOf(t.db, 'wh-signed-1')).map((d) => [d.event_type, d.status, d.status_codes])).toEqual([
        ['call.ended', 'delivered', [200]],
        ['call.started', 'delivered', [200]],
      ]),
    );
    const log = await api()
      .get('/api/webhooks/deliveries?session_id=wh-signed-1&status=delivered')
      .set(auth)
      .expect(200);
    expect(log.body.items).toHaveLength(2);
    expect(log.body.items[0]).toMatchObject({ attempts: 1, status_codes: [200], last_error: null });
    expect(typeof log.body.items[0].last_latency_ms).toBe('number');
  });

  it('signs with both secrets during a rotation, so receivers can switch without a gap', async () => {
    const hooks = await receiver();
    const { id, secret: oldSecret } = await endpoint({
      url: hooks.url,
      agent_id: 'agent-rotate',
      events: ['call.ended'],
    });
    const rotated = await api().post(`/api/webhooks/${id}/rotate-secret`).set(auth).send({}).expect(200);
    const newSecret = (rotated.body as { secret: string }).secret;
    await placeCall(t.wsUrl, 'wh-rotate-1', 'agent-rotate');

    await eventually(() => expect(hooks.received).toHaveLength(1), 15_000);
    const [delivery] = hooks.received;
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyWebhook(newSecret, delivery.headers, delivery.body).type).toBe('call.ended');
    expect(verifyWebhook(oldSecret, delivery.headers, delivery.body).type).toBe('call.ended');

    // Without the grace, the old secret signs no more.
    await api()
      .post(`/api/webhooks/${id}/rotate-secret`)
      .set(auth)
      .send({ previous_secret_ttl_seconds: 0 })
      .expect(200);
    const [row] = await deliveriesOf(t.db, 'wh-rotate-1');
    await api().post(`/api/webhooks/deliveries/${row.id}/redeliver`).set(auth).send({}).expect(202);
    await eventually(() => expect(hooks.received).toHaveLength(2), 10_000);
    expect(String(hooks.received[1].headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => verifyWebhook(newSecret, hooks.received[1].headers, hooks.received[1].body)).toThrow(
      'invalid signature',
    );
  });

  it('keeps trying while the receiver is down and delivers once it is back, with the same idempotency key', async () => {
    const hooks = await receiver();
    await hooks.stop();
    await endpoint({ url: hooks.url, agent_id: 'agent-down', events: ['call.ended'] });
    await placeCall(t.wsUrl, 'wh-down-1', 'agent-down');

    await eventually(
      async () => {
        const [delivery] = await deliveriesOf(t.db, 'wh-down-1');
        expect(delivery).toMatchObject({ status: 'pending', status_codes: [null, null] });
        expect(delivery.last_error).toContain('ECONNREFUSED');
      },
      15_000,
      50,
    );
    await hooks.start();
    await eventually(async () => expect((await deliveriesOf(t.db, 'wh-down-1'))[0].status).toBe('delivered'), 15_000);

    const [delivery] = await deliveriesOf(t.db, 'wh-down-1');
    expect(delivery.status_codes).toEqual([null, null, 200]);
    expect(hooks.received).toHaveLength(1);
    expect(hooks.received[0].headers['webhook-id']).toBe(delivery.event_id);

    // A redelivery sends the same event again, under the same key, built anew.
    const redelivered = await api()
      .post(`/api/webhooks/deliveries/${delivery.id}/redeliver`)
      .set(auth)
      .send({})
      .expect(202);
    expect(redelivered.body).toMatchObject({ status: 'pending', redeliveries: 1 });
    await eventually(() => expect(hooks.received).toHaveLength(2), 10_000);
    expect(hooks.received[1].headers['webhook-id']).toBe(delivery.event_id);
    expect(JSON.parse(hooks.received[1].body)).toEqual(JSON.parse(hooks.received[0].body));
    await eventually(async () =>
      expect((await deliveriesOf(t.db, 'wh-down-1'))[0]).toMatchObject({ status: 'delivered', attempts: 4 }),
    );
    await api()
      .post('/api/webhooks/deliveries/3f1c2b6e-9a0d-4c4e-8f51-0d7f3f1a2b3c/redeliver')
      .set(auth)
      .send({})
      .expect(404);
  });

  it('retries a receiver that answers 500 with growing delays, then marks the delivery failed', async () => {
    const hooks = await receiver(500);
    await endpoint({ url: hooks.url, agent_id: 'agent-500', events: ['call.ended'] });
    await placeCall(t.wsUrl, 'wh-500-1', 'agent-500');

    // 1 + 3 retries (WEBHOOK_MAX_DELIVERY_HOURS=0.005 from 1 s), then failed.
    await eventually(
      async () =>
        expect((await deliveriesOf(t.db, 'wh-500-1'))[0]).toMatchObject({
          status: 'failed',
          attempts: 4,
          status_codes: [500, 500, 500, 500],
          last_error: 'HTTP 500',
        }),
      40_000,
      100,
    );
    const times = hooks.received.map((r) => r.at);
    expect(times).toHaveLength(4);
    expect(new Set(hooks.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    const gaps = times.slice(1).map((at, i) => at - times[i]);
    // The n-th retry waits at least 2^(n-1) s (pg-boss: 1-2 s, 2-4 s, 4-8 s), so the waits grow.
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(1000 * 2 ** i - 250));
    expect(gaps[2]).toBeGreaterThan(gaps[0]);
    const failed = await api().get('/api/webhooks/deliveries?status=failed&session_id=wh-500-1').set(auth).expect(200);
    expect(failed.body.items).toHaveLength(1);

    const metrics = (await api().get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200)).text;
    const sample = (name: string) =>
      Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(sample('millis_webhook_attempts_total{result="http_error"}')).toBeGreaterThanOrEqual(4);
    expect(sample('millis_webhook_deliveries_total{outcome="failed"}')).toBeGreaterThanOrEqual(1);
    expect(sample('millis_webhook_attempt_duration_seconds_count{result="http_error"}')).toBeGreaterThanOrEqual(4);
    expect(sample('millis_webhook_deliveries_pending')).toBeGreaterThanOrEqual(0);
  });

  it('sends each endpoint only its agent and its events: global and per-agent endpoints', async () => {
    const [globalHooks, agentHooks, otherHooks] = [await receiver(), await receiver(), await receiver()];
    const global = await endpoint({ url: globalHooks.url, events: ['call.started', 'call.ended'] });
    const forAgent = await endpoint({ url: agentHooks.url, agent_id: 'agent-filter', events: ['call.ended'] });
    const forOther = await endpoint({ url: otherHooks.url, agent_id: 'agent-someone-else' });
    await placeCall(t.wsUrl, 'wh-filter-1', 'agent-filter');

    await eventually(() => {
      expect(globalHooks.received.map((r) => JSON.parse(r.body).type).sort()).toEqual(['call.ended', 'call.started']);
      expect(agentHooks.received.map((r) => JSON.parse(r.body).type)).toEqual(['call.ended']);
    }, 15_000);
    // The deliveries of an event are made together, in one transaction: none was made for the other agent's endpoint.
    const rows = await deliveriesOf(t.db, 'wh-filter-1');
    expect(rows.map((d) => [d.endpoint_id, d.event_type]).sort()).toEqual(
      [
        [global.id, 'call.ended'],
        [global.id, 'call.started'],
        [forAgent.id, 'call.ended'],
      ].sort(),
    );
    expect(rows.some((d) => d.endpoint_id === forOther.id)).toBe(false);
    expect(otherHooks.received).toHaveLength(0);
    // Both endpoints got the same event under the same key.
    expect(agentHooks.received[0].headers['webhook-id']).toBe(
      globalHooks.forType('call.ended')[0].headers['webhook-id'],
    );
  });

  it('never sends what redaction removed: the payload is built when it is sent', async () => {
    const hooks = await receiver(503);
    await endpoint({ url: hooks.url, agent_id: 'agent-redact', events: ['call.ended'] });
    await placeCall(t.wsUrl, 'wh-redact-1', 'agent-redact', 'My card number is 4111 1111 1111 1111');
    await eventually(() => expect(hooks.received.length).toBeGreaterThanOrEqual(1), 15_000);
    expect(hooks.received[0].body).toContain('4111 1111');

    // Redacted (as RETENTION_MODE=redact does to old calls) while the delivery is still being retried.
    await t.app.get(CallRetentionRepository).redactBatch(new Date(Date.now() + 60_000), 100);
    hooks.status = 200;
    await eventually(async () => expect((await deliveriesOf(t.db, 'wh-redact-1'))[0].status).toBe('delivered'), 15_000);

    const last = hooks.received.at(-1)!;
    for (const secretText of ['4111', 'Ada Lovelace', '+15550100', '+15550199'])
      expect(last.body).not.toContain(secretText);
    expect(JSON.parse(last.body).data).toMatchObject({
      call: { session_id: 'wh-redact-1', redacted: true, metadata: null, from_number: null, to_number: null },
      transcript: null,
    });
  });

  it('stops the pending deliveries of an endpoint that is disabled', async () => {
    const hooks = await receiver(500);
    const { id } = await endpoint({ url: hooks.url, agent_id: 'agent-disable', events: ['call.ended'] });
    await placeCall(t.wsUrl, 'wh-disable-1', 'agent-disable');
    await eventually(() => expect(hooks.received.length).toBeGreaterThanOrEqual(1), 15_000);

    const sentBefore = hooks.received.length;
    await api().patch(`/api/webhooks/${id}`).set(auth).send({ enabled: false }).expect(200);
    const [stopped] = await deliveriesOf(t.db, 'wh-disable-1');
    expect(stopped).toMatchObject({ status: 'failed', last_error: 'endpoint disabled' });
    // Its queued retry still runs, finds the delivery stopped and sends nothing.
    await eventually(
      async () => {
        const { rows } = await t.db.query(
          `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'webhook-delivery' AND data->>'deliveryId' = $1
             AND state IN ('created', 'retry', 'active')`,
          [stopped.id],
        );
        expect(rows[0].n).toBe(0);
      },
      15_000,
      100,
    );
    const [settled] = await deliveriesOf(t.db, 'wh-disable-1');
    expect(settled).toMatchObject({ status: 'failed', last_error: 'endpoint disabled', attempts: stopped.attempts });
    // At most an attempt already on its way when the endpoint was disabled (its result is not recorded).
    expect(hooks.received.length).toBeLessThanOrEqual(sentBefore + 1);
  });

  it('delivers call.analyzed with the stored analysis, and without its summary and fields once redacted', async () => {
    const analysis = {
      enabled: true,
      custom_fields: [{ name: 'order_number', type: 'string', description: 'The order the caller named.' }],
    };
    await api().put('/api/agents/agent-analyzed').set(auth).send({ analysis }).expect(201);
    const hooks = await receiver();
    const { secret } = await endpoint({ url: hooks.url, agent_id: 'agent-analyzed', events: ['call.analyzed'] });
    await placeCall(t.wsUrl, 'wh-analyzed-1', 'agent-analyzed', 'My order number is A-17, where is it?');

    await eventually(() => expect(hooks.received).toHaveLength(1), 20_000);
    const event = verifyWebhook(secret, hooks.received[0].headers, hooks.received[0].body);
    const { rows } = await t.db.query(
      `SELECT a.summary, a.outcome, a.sentiment, a.custom_fields, a.completed_at FROM call_analyses a
       JOIN call_sessions s ON s.id = a.call_session_id WHERE s.session_id = 'wh-analyzed-1'`,
    );
    const [stored] = rows as Array<{ summary: string; custom_fields: Record<string, unknown>; completed_at: Date }>;
    expect(stored.custom_fields).toEqual({ order_number: expect.any(String) });
    expect(event).toMatchObject({
      type: 'call.analyzed',
      data: {
        call: { session_id: 'wh-analyzed-1', status: 'ended', redacted: false },
        analysis: { status: 'completed', ...stored, completed_at: stored.completed_at.toISOString() },
      },
    });

    // Redacted, then sent again: the analysis keeps its outcome and sentiment, not what the caller said.
    await t.app.get(CallRetentionRepository).redactBatch(new Date(Date.now() + 60_000), 100);
    const [delivery] = await deliveriesOf(t.db, 'wh-analyzed-1');
    await api().post(`/api/webhooks/deliveries/${delivery.id}/redeliver`).set(auth).send({}).expect(202);
    await eventually(() => expect(hooks.received).toHaveLength(2), 10_000);
    const redacted = verifyWebhook(secret, hooks.received[1].headers, hooks.received[1].body);
    expect(redacted.id).toBe(event.id);
    expect(redacted.data).toMatchObject({
      call: { redacted: true, metadata: null },
      analysis: { status: 'completed', summary: null, custom_fields: null },
    });
    expect(hooks.received[1].body).not.toContain('A-17');
    expect(hooks.received[1].body.toLowerCase()).not.toContain('a-17');
  });

  it('lets retention delete old delivery rows', async () => {
    const hooks = await receiver();
    await endpoint({ url: hooks.url, agent_id: 'agent-retention', events: ['call.ended'] });
    await placeCall(t.wsUrl, 'wh-retention-1', 'agent-retention');
    await eventually(async () => expect(await deliveriesOf(t.db, 'wh-retention-1')).toHaveLength(1), 15_000);
    await t.db.query(`UPDATE webhook_deliveries SET created_at = now() - interval '40 days' WHERE session_id = $1`, [
      'wh-retention-1',
    ]);
    const report = await t.app.get(RetentionService).run({ days: 30, mode: 'delete' });
    expect(report).toMatchObject({ webhookDeliveries: 1 });
    expect(await deliveriesOf(t.db, 'wh-retention-1')).toEqual([]);
  });
});
