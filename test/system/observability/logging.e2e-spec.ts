import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { METRICS_TOKEN, ServiceProcess, spawnService, stopService } from '../support/service-process';

const WS_TOKEN = 'ws-token-that-must-never-be-logged';
const API_KEY = 'api-key-that-must-never-be-logged';
const OPENAI_KEY = 'sk-openai-key-that-must-never-be-logged';
const SESSION = 'log-redaction-1';

interface LogLine {
  level: number;
  msg: string;
  context?: string;
  session_id?: string;
  [key: string]: unknown;
}

describe('Logs of a real process', () => {
  let fake: FakeLlmServer;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
    await fake.start();
  });
  afterAll(async () => {
    await stopService(service);
    await fake.stop();
  });

  it('are JSON lines carrying session_id on every line of a call, with no secret and no phone number', async () => {
    service = await spawnService({
      LOG_LEVEL: 'debug',
      WS_AUTH_TOKEN: WS_TOKEN,
      API_KEY,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_BASE_URL: fake.baseUrl,
    });
    await expect(MillisPlatformClient.connect(`${service.wsUrl}?token=wrong-${WS_TOKEN}`)).rejects.toThrow('HTTP 401');

    const client = await MillisPlatformClient.connect(service.wsUrl, { token: WS_TOKEN });
    client.startCall({
      session_id: SESSION,
      voip: { from: '+15550100123', to: '+1 555 010 0124' },
      metadata: { callback: '+15550100125' },
    });
    await client.waitForEnd(0);
    client.sendRaw('{"oops": my number is +1 (555) 010-0126');
    fake.enqueue({ kind: 'error', status: 500, message: 'upstream exploded' });
    client.streamRequest(1, [{ role: 'user', content: 'call me back on +15550100127' }]);
    await client.waitForEnd(1);
    await client.close();

    const api = (path: string, headers: Record<string, string>) => fetch(`${service!.httpUrl}${path}`, { headers });
    expect((await api('/api/phone-numbers/%2B15550100123/calls', { 'x-api-key': API_KEY })).status).toBe(200);
    expect((await api(`/api/calls?token=${WS_TOKEN}`, { Authorization: `Bearer ${API_KEY}` })).status).toBe(400);
    // The spellings the call desk and people send: spaces (encoded two ways), dots, a query string.
    for (const path of [
      '/api/phone-numbers/%2B1%20555%20010%200128/calls',
      '/api/phone-numbers/+1.555.010.0129/calls',
      '/api/phone-numbers/%252B1%2520555%2520010%25200130/calls',
      '/api/calls?phone=%2B1+555+010+0131',
      '/api/calls?phone=%2B1.555.010.0132&access_token=access-token-in-a-query-0123',
    ]) {
      expect([200, 400, 404]).toContain((await api(path, { 'x-api-key': API_KEY })).status);
    }
    expect((await api('/metrics', { Authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(200);

    service.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
    const output = service.output();

    for (const secret of [WS_TOKEN, API_KEY, OPENAI_KEY, METRICS_TOKEN]) expect(output).not.toContain(secret);
    for (const digits of ['0100123', '0100124', '0100125', '010-0126', '0100127', '010 0124'])
      expect(output).not.toContain(digits);
    for (const last of ['0128', '0129', '0130', '0131', '0132'])
      expect(output).not.toMatch(new RegExp(`010(\\D{1,6})${last}`));
    expect(output).not.toContain('access-token-in-a-query');
    expect(output).not.toContain('call me back');

    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogLine);
    const ofTheCall = lines.filter((l) => l.msg.includes(SESSION));
    expect(ofTheCall.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('started'),
        expect.stringContaining('invalid frame'),
        expect.stringContaining('LLM reply failed'),
        expect.stringContaining('ended'),
      ]),
    );
    for (const line of ofTheCall) expect(line.session_id).toBe(SESSION);
    const requestLog = lines.find((l) =>
      (l.req as { url?: string } | undefined)?.url?.startsWith('/api/phone-numbers'),
    );
    expect(requestLog).toBeDefined();
    expect(JSON.stringify(requestLog)).toContain('[redacted]');
    const requestUrls = lines
      .map((l) => (l.req as { url?: string } | undefined)?.url)
      .filter((url): url is string => url !== undefined);
    expect(requestUrls).toEqual(expect.arrayContaining(['/api/phone-numbers/[phone]/calls', '/api/calls']));
    expect(requestUrls.filter((url) => url.startsWith('/api/phone-numbers/'))).toHaveLength(4);
    for (const url of requestUrls) expect(url).not.toContain('?');

    // Start-up: Nest's line per module and route at debug, then one ready record (never a key given as API_KEY).
    const chatter = lines.filter((l) =>
      ['InstanceLoader', 'RouterExplorer', 'RoutesResolver'].includes(l.context ?? ''),
    );
    expect(chatter.length).toBeGreaterThan(10);
    expect(chatter.every((l) => l.level === 20)).toBe(true);
    const ready = lines.filter((l) => l.dashboard_url !== undefined);
    expect(ready).toEqual([
      expect.objectContaining({
        level: 30,
        websocket_url: `${service.wsUrl}?token=<WS_AUTH_TOKEN>`,
        dashboard_url: `${service.httpUrl}/`,
        sign_in: 'sign in with API_KEY',
      }),
    ]);
    expect(ready[0].llm).toBe(`fake-model at ${fake.baseUrl}`);
  });

  it("never show any provider's key or credential header, even quoted back in a provider's error", async () => {
    const PROVIDER_KEY = 'gsk-provider-key-that-must-never-be-logged';
    const GATEWAY_TOKEN = 'gateway-token-that-must-never-be-logged';
    const backup = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
    await backup.start();
    try {
      service = await spawnService({
        LOG_LEVEL: 'log',
        OPENAI_API_KEY: OPENAI_KEY,
        OPENAI_BASE_URL: fake.baseUrl,
        LLM_PROVIDERS: JSON.stringify([
          {
            name: 'gateway',
            base_url: backup.baseUrl,
            api_key: PROVIDER_KEY,
            headers: { 'x-gateway-token': GATEWAY_TOKEN },
            model: 'gateway-model',
          },
        ]),
        LLM_PROVIDER_ORDER: 'gateway,default',
      });
      // What OpenAI-compatible providers answer a bad key with: the key, quoted back. The greeting asks first.
      backup.enqueue({
        kind: 'error',
        status: 401,
        message: `Incorrect API key provided: ${PROVIDER_KEY} (sent with ${GATEWAY_TOKEN})`,
      });
      const client = await MillisPlatformClient.connect(service.wsUrl);
      client.startCall({ session_id: 'log-provider-keys' });
      expect(await client.waitForEnd(0)).toMatch(/^You said: The call has just connected/);
      expect(backup.requests[0].headers['x-gateway-token']).toBe(GATEWAY_TOKEN);
      await client.close();

      service.kill('SIGTERM');
      expect((await service.exited).code).toBe(0);
      const output = service.output();
      expect(output).toContain(
        'LLM provider gateway did not answer stream 0: LLM provider answered 401: 401 Incorrect API key provided: [redacted] (sent with [redacted])',
      );
      for (const secret of [PROVIDER_KEY, GATEWAY_TOKEN, OPENAI_KEY]) expect(output).not.toContain(secret);
      const ready = output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as LogLine)
        .find((l) => l.dashboard_url !== undefined);
      expect(ready?.llm).toBe(
        `gateway: gateway-model at ${backup.baseUrl}, then default: fake-model at ${fake.baseUrl} (failover in this order)`,
      );
    } finally {
      await backup.stop();
    }
  });
});
