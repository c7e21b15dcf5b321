import request from 'supertest';
import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

const FALLBACK = 'Sorry, one moment please.';
/** The first provider's first-token budget. */
const BUDGET_MS = 400;
/** Time the service, the sockets and a loaded 2-core machine may add on top. */
const SLACK_MS = 300;
const OPEN_MS = 1_500;
const API_KEY = 'providers-test-api-key-0123';
const METRICS_TOKEN = 'providers-test-metrics-token';

/**
 * Two providers: `default` (the OPENAI_* variables, the suite's own fake) first, `backup` (a
 * second fake) next. Real WebSocket calls, the real openai client, real Postgres.
 */
describe('Failover between LLM providers', () => {
  let t: TestApp;
  let backup: FakeLlmServer;
  let client: MillisPlatformClient;
  let streamId = 0;

  beforeAll(async () => {
    backup = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 2 });
    await backup.start();
    t = await startTestApp({
      env: {
        GREETING: 'Hi.',
        FALLBACK_MESSAGE: FALLBACK,
        API_KEY,
        METRICS_TOKEN,
        LLM_TIMEOUT_MS: String(BUDGET_MS),
        LLM_PROVIDERS: JSON.stringify([
          { name: 'backup', base_url: backup.baseUrl, api_key: 'backup-key', model: 'backup-model' },
        ]),
        LLM_CIRCUIT_FAILURES: '5',
        LLM_CIRCUIT_OPEN_MS: String(OPEN_MS),
      },
    });
    client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'failover' });
    await client.waitForEnd(0);
  });
  afterAll(async () => {
    await client.close();
    await t.close();
    await backup.stop();
  });
  beforeEach(() => {
    t.fakeLlm.reset();
    backup.reset();
  });

  /** One turn: what the caller heard, and how long after the request its first words came. */
  async function ask(words: string, on: MillisPlatformClient = client) {
    const id = ++streamId;
    const sentAt = performance.now();
    on.streamRequest(id, [{ role: 'user', content: words }]);
    await on.waitUntil(() => on.responses(id).length > 0, 10_000, `first words of stream ${id}`);
    const heardAfterMs = performance.now() - sentAt;
    return { id, heardAfterMs, text: await on.waitForEnd(id, 10_000) };
  }

  async function exchange(id: number, session = 'failover') {
    const { rows } = await t.db.query(
      `SELECT e.* FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id = $1 AND e.stream_id = $2`,
      [session, id],
    );
    if (!rows[0]) throw new Error(`no exchange ${id} yet`);
    return rows[0];
  }

  async function metrics(): Promise<string> {
    const response = await fetch(new URL('/metrics', t.wsUrl.replace('ws:', 'http:')), {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    return response.text();
  }
  const circuit = async (provider: string) =>
    Number(
      new RegExp(`millis_llm_provider_circuit_state\\{provider="${provider}"\\} (\\d)`).exec(await metrics())?.[1],
    );
  const errors = async (provider: string, cause: string) =>
    Number(
      new RegExp(`millis_llm_provider_errors_total\\{provider="${provider}",cause="${cause}"\\} (\\d+)`).exec(
        await metrics(),
      )?.[1] ?? 0,
    );

  it("speaks the second provider's reply, not the fallback, when the first hangs: within the first's budget plus the second's time to first token", async () => {
    t.fakeLlm.enqueue({ kind: 'hang' });

    const { id, heardAfterMs, text } = await ask('Are you open today');

    expect(text).toBe('You said: Are you open today.');
    const [answered] = backup.requests;
    const backupFirstTokenMs = answered.firstTokenWrittenAt! - answered.receivedAt;
    expect(heardAfterMs).toBeGreaterThanOrEqual(BUDGET_MS - 5);
    expect(heardAfterMs).toBeLessThan(BUDGET_MS + backupFirstTokenMs + SLACK_MS);
    await t.fakeLlm.waitForAbort(0);
    await eventually(async () => {
      const row = await exchange(id);
      expect(row).toMatchObject({
        status: 'completed',
        provider: 'backup',
        model: 'backup-model',
        response_model: 'backup-model',
        error: null,
      });
      expect(row.failed_attempts).toEqual([
        {
          round: 0,
          provider: 'default',
          model: 'fake-model',
          code: 'timeout',
          error: `no first token within ${BUDGET_MS} ms`,
          started_at: expect.any(String),
          duration_ms: expect.any(Number),
        },
      ]);
      expect(row.failed_attempts[0].duration_ms).toBeGreaterThanOrEqual(BUDGET_MS - 5);
    });
  });

  it('never fails over once the caller heard words: the first provider breaking mid-reply ends in the fallback', async () => {
    t.fakeLlm.enqueue({ kind: 'cut', afterTokens: 4, text: 'The store opens at nine tomorrow morning.' });

    const { id, text } = await ask('When do you open');

    expect(text).toBe(`The store opens at ${FALLBACK}`);
    expect(backup.requests).toHaveLength(0);
    await eventually(async () =>
      expect(await exchange(id)).toMatchObject({ status: 'failed', provider: 'default', failed_attempts: [] }),
    );
  });

  it('opens the circuit of a provider failing 5 times: later turns go straight to the next, at no cost', async () => {
    // An answer resets the count: only consecutive failures open the circuit.
    await ask('all well?');
    t.fakeLlm.reset();
    const errorsBefore = await errors('default', 'upstream_error');
    t.fakeLlm.setResponder(() => ({ kind: 'error', status: 500, message: 'primary down' }));
    for (let i = 0; i < 5; i++) {
      const { text } = await ask(`question ${i}`);
      expect(text).toBe(`You said: question ${i}.`);
    }
    expect(t.fakeLlm.requests).toHaveLength(5);
    expect(await circuit('default')).toBe(2);

    const { id, heardAfterMs, text } = await ask('and now');

    expect(text).toBe('You said: and now.');
    expect(t.fakeLlm.requests).toHaveLength(5);
    expect(heardAfterMs).toBeLessThan(BUDGET_MS);
    await eventually(async () => {
      const row = await exchange(id);
      expect(row.provider).toBe('backup');
      expect(row.failed_attempts).toEqual([
        {
          round: 0,
          provider: 'default',
          model: 'fake-model',
          code: 'circuit_open',
          error: expect.stringMatching(/^skipped: circuit open/),
          started_at: expect.any(String),
          duration_ms: 0,
        },
      ]);
    });
    expect(await errors('default', 'upstream_error')).toBe(errorsBefore + 5);
    expect(await metrics()).toContain('millis_llm_provider_requests_total{provider="default",outcome="skipped"} 1');
  });

  it('tries the provider again once the pause is over, and closes its circuit when it answers', async () => {
    await eventually(async () => expect(await circuit('default')).toBe(1), OPEN_MS + 5_000, 50);

    const { id, text } = await ask('are you back');

    expect(text).toBe('You said: are you back.');
    expect(t.fakeLlm.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(0);
    expect(await circuit('default')).toBe(0);
    await eventually(async () =>
      expect(await exchange(id)).toMatchObject({ provider: 'default', failed_attempts: [] }),
    );
  });

  it('moves on from a 429 and keeps away from that provider for as long as its retry-after asks', async () => {
    t.fakeLlm.enqueue({ kind: 'error', status: 429, retryAfterS: 1 });

    const first = await ask('busy?');
    const second = await ask('still busy?');

    expect([first.text, second.text]).toEqual(['You said: busy?.', 'You said: still busy?.']);
    expect(t.fakeLlm.requests).toHaveLength(1);
    await eventually(async () => {
      expect((await exchange(first.id)).failed_attempts).toMatchObject([
        { provider: 'default', code: 'rate_limited', status: 429, retry_after_ms: 1000 },
      ]);
      expect((await exchange(second.id)).failed_attempts).toMatchObject([
        { provider: 'default', code: 'circuit_open' },
      ]);
    });
    await eventually(async () => expect(await circuit('default')).toBe(1), 5_000, 50);
    await ask('back to normal');
    expect(await circuit('default')).toBe(0);
  });

  it('speaks the fallback only when every provider fails, naming each in the error', async () => {
    t.fakeLlm.enqueue({ kind: 'error', status: 502, message: 'bad gateway' });
    backup.enqueue({ kind: 'error', status: 503, message: 'overloaded' });

    const { id, text } = await ask('anyone?');

    expect(text).toBe(FALLBACK);
    await eventually(async () => {
      const row = await exchange(id);
      expect(row).toMatchObject({ status: 'failed', provider: null });
      expect(row.error).toBe(
        'default: LLM provider answered 502: 502 bad gateway; backup: LLM provider answered 503: 503 overloaded',
      );
      expect(row.failed_attempts.map((a: { provider: string }) => a.provider)).toEqual(['default', 'backup']);
    });
  });

  it('hedges an agent that asks for it: the second provider starts when the first is silent, the first to speak answers, the other is aborted and its cost recorded', async () => {
    await request(t.app.getHttpServer())
      .put('/api/agents/hedged-agent')
      .set('x-api-key', API_KEY)
      .send({ providers: ['default', 'backup'], hedge_after_ms: 80 })
      .expect(201);
    const hedged = await MillisPlatformClient.connect(t.wsUrl);
    hedged.startCall({ session_id: 'hedged', agent_id: 'hedged-agent' });
    await hedged.waitForEnd(0);
    t.fakeLlm.enqueue({ kind: 'text', text: 'The slow one.', firstTokenDelayMs: 3_000 });

    const { id, heardAfterMs, text } = await ask('quick please', hedged);

    expect(text).toBe('You said: quick please.');
    expect(heardAfterMs).toBeLessThan(1_000);
    await t.fakeLlm.waitForAbort(0);
    await eventually(async () => {
      const row = await exchange(id, 'hedged');
      expect(row).toMatchObject({ provider: 'backup', failed_attempts: [] });
      expect(row.hedges).toEqual([
        {
          round: 0,
          started_after_ms: expect.any(Number),
          winner: 'backup',
          hedge_won: true,
          extra: [{ provider: 'default', model: 'fake-model', outcome: 'aborted', duration_ms: expect.any(Number) }],
          extra_prompt_tokens: expect.any(Number),
        },
      ]);
      expect(row.hedges[0].started_after_ms).toBeGreaterThanOrEqual(75);
      expect(row.hedges[0].extra_prompt_tokens).toBeGreaterThan(0);
    });
    expect(await metrics()).toContain('millis_llm_hedges_total{provider="backup",winner="hedge"} 1');
    await hedged.close();
  });

  it('counts requests, errors, time to first token and circuit state per provider in /metrics', async () => {
    const text = await metrics();
    expect(text).toMatch(/millis_llm_provider_requests_total\{provider="backup",outcome="answered"\} \d+/);
    expect(text).toContain('millis_llm_provider_requests_total{provider="default",outcome="lost"} 1');
    expect(text).toContain('millis_llm_provider_errors_total{provider="default",cause="timeout"} 1');
    expect(text).toContain('millis_llm_provider_errors_total{provider="default",cause="rate_limited"} 1');
    expect(text).toMatch(/millis_llm_provider_time_to_first_token_seconds_count\{provider="backup"\} \d+/);
    expect(text).toContain('millis_llm_provider_circuit_state{provider="backup"} 0');
  });
});

describe('An Azure OpenAI provider', () => {
  let t: TestApp;
  let azure: FakeLlmServer;

  beforeAll(async () => {
    azure = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 2, dialect: 'azure' });
    await azure.start();
    t = await startTestApp({
      env: {
        GREETING: 'Hi.',
        OPENAI_BASE_URL: '',
        OPENAI_API_KEY: '',
        LLM_PROVIDERS: JSON.stringify([
          {
            name: 'azure-east',
            kind: 'azure',
            base_url: azure.baseUrl.replace(/\/v1$/, ''),
            api_key: 'azure-key-0123',
            deployment: 'voice-4o',
            api_version: '2024-10-21',
            model: 'gpt-4o',
          },
        ]),
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await azure.stop();
  });

  it('is reached on its deployment path with the api-version and the key in the api-key header, and answers the call', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'azure-call' });
    await client.waitForEnd(0);
    client.streamRequest(1, [{ role: 'user', content: 'Hello from Azure' }]);

    expect(await client.waitForEnd(1)).toBe('You said: Hello from Azure.');
    const [sent] = azure.requests;
    expect(sent.url).toBe('/openai/deployments/voice-4o/chat/completions?api-version=2024-10-21');
    expect(sent.headers['api-key']).toBe('azure-key-0123');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body.model).toBe('gpt-4o');
    expect(t.fakeLlm.requests).toHaveLength(0);
    await client.close();
    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT e.provider, e.model, e.status FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id = 'azure-call' AND e.kind = 'reply'`,
      );
      expect(rows).toEqual([{ provider: 'azure-east', model: 'gpt-4o', status: 'completed' }]);
    });
  });
});
