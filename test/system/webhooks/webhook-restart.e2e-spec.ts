import { useProcessSuite } from '../support/process-suite';
import { spawnService, stopService } from '../support/service-process';
import { eventually } from '../../support/eventually';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { deliveriesOf, documentedVerifier, FAST_WEBHOOK_ENV, placeCall } from '../../support/webhook-test-kit';

const API_KEY = 'webhook-restart-key-0123456789';

describe('Webhook delivery across a restart of the service', () => {
  const suite = useProcessSuite({});
  const hooks = new WebhookReceiver();

  beforeAll(async () => {
    await hooks.start();
  });
  afterAll(async () => {
    await hooks.stop();
  });

  it('delivers after the process that made the first attempts has stopped and another one took over', async () => {
    const env = {
      ...FAST_WEBHOOK_ENV,
      API_KEY,
      OPENAI_BASE_URL: suite.fake.baseUrl,
      // Retries 2-4 s and 4-8 s apart: the restart happens between attempts.
      WEBHOOK_RETRY_DELAY_SECONDS: '2',
      WEBHOOK_MAX_DELIVERY_HOURS: '0.01',
    };
    suite.service = await spawnService(env);
    // The service made the tables (migrations); endpoints of earlier suites on this database would get the call too.
    await suite.db.query('DELETE FROM webhook_endpoints');
    const created = await fetch(`${suite.service.httpUrl}/api/webhooks`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({ url: hooks.url, events: ['call.ended'] }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };

    hooks.status = 500;
    await placeCall(suite.service.wsUrl, 'wh-restart-1', 'agent-restart');
    await eventually(
      async () => expect((await deliveriesOf(suite.db, 'wh-restart-1'))[0]?.status_codes).toEqual([500]),
      20_000,
      50,
    );
    await stopService(suite.service);

    hooks.status = 200;
    suite.service = await spawnService(env);
    await eventually(
      async () => expect((await deliveriesOf(suite.db, 'wh-restart-1'))[0]?.status).toBe('delivered'),
      30_000,
      100,
    );

    const [delivery] = await deliveriesOf(suite.db, 'wh-restart-1');
    expect(delivery.status_codes[0]).toBe(500);
    expect(delivery.status_codes.at(-1)).toBe(200);
    const ids = new Set(hooks.received.map((r) => r.headers['webhook-id']));
    expect([...ids]).toEqual([delivery.event_id]);
    const verifyWebhook = documentedVerifier();
    const event = verifyWebhook(secret, hooks.received.at(-1)!.headers, hooks.received.at(-1)!.body);
    expect(event).toMatchObject({ type: 'call.ended', data: { call: { session_id: 'wh-restart-1' } } });
  });
});
