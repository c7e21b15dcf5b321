import { createServer } from 'node:net';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

const FALLBACK = 'Sorry, one moment please.';

describe('When the LLM fails', () => {
  let t: TestApp;
  let client: MillisPlatformClient;
  let streamId = 0;

  beforeAll(async () => {
    t = await startTestApp({
      env: { GREETING: 'Hi.', FALLBACK_MESSAGE: FALLBACK, LLM_TIMEOUT_MS: '400', LLM_IDLE_TIMEOUT_MS: '400' },
    });
    client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'llm-failures' });
    await client.waitForEnd(0);
  });
  afterAll(async () => {
    await client.close();
    await t.close();
  });
  beforeEach(() => t.fakeLlm.reset());

  async function exchange(id: number) {
    const { rows } = await t.db.query(
      `SELECT e.status, e.error, e.response_text FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
       WHERE s.session_id = 'llm-failures' AND e.stream_id = $1`,
      [id],
    );
    return rows[0];
  }

  async function ask(scenario: Parameters<TestApp['fakeLlm']['enqueue']>[0]) {
    t.fakeLlm.enqueue(scenario);
    streamId += 1;
    client.streamRequest(streamId, [{ role: 'user', content: `question ${streamId}` }]);
    return { id: streamId, text: await client.waitForEnd(streamId, 5000) };
  }

  it('speaks the fallback when the provider answers 500, and records the failure', async () => {
    const { id, text } = await ask({ kind: 'error', status: 500, message: 'upstream exploded' });
    expect(text).toBe(FALLBACK);
    expect(client.responses(id).at(-1)).toMatchObject({ end_of_stream: true });
    await eventually(async () => {
      const row = await exchange(id);
      expect(row.status).toBe('failed');
      expect(row.error).toContain('500');
      expect(row.response_text).toBe(FALLBACK);
    });
  });

  it('keeps what was said and adds the fallback when the stream is cut mid-way', async () => {
    const { id, text } = await ask({ kind: 'cut', afterTokens: 4, text: 'The store opens at nine tomorrow morning.' });
    expect(text).toBe(`The store opens at ${FALLBACK}`);
    await eventually(async () => {
      const row = await exchange(id);
      expect(row.status).toBe('failed');
      expect(row.response_text).toBe(text);
    });
  });

  it('times out a provider that sends nothing and aborts the request', async () => {
    const started = Date.now();
    const { id, text } = await ask({ kind: 'hang' });
    expect(text).toBe(FALLBACK);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    await t.fakeLlm.waitForAbort(0);
    await eventually(async () => expect((await exchange(id)).error).toMatch(/no first token within 400 ms/));
  });

  it('times out a provider that stalls mid-reply', async () => {
    const { id, text } = await ask({ kind: 'hang', afterTokens: 3 });
    expect(text.endsWith(FALLBACK)).toBe(true);
    expect(text.length).toBeGreaterThan(FALLBACK.length);
    await eventually(async () => expect((await exchange(id)).error).toMatch(/no token for 400 ms mid-reply/));
  });

  it('goes on with the call after every failure', async () => {
    const { text } = await ask({ kind: 'text', text: 'All good again.' });
    expect(text).toBe('All good again.');
    expect(client.isOpen).toBe(true);
  });
});

describe('When the LLM provider cannot be reached', () => {
  const METRICS_TOKEN = 'metrics-token-for-llm-failures';
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    port = await closedPort();
    t = await startTestApp({
      env: {
        GREETING: 'Hi.',
        FALLBACK_MESSAGE: FALLBACK,
        OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
        METRICS_TOKEN,
      },
    });
  });
  afterAll(() => t.close());

  it('speaks the fallback, records that the provider was unreachable (not that it answered), and counts it so', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'llm-unreachable' });
    await client.waitForEnd(0);
    client.streamRequest(1, [{ role: 'user', content: 'anyone there?' }]);

    expect(await client.waitForEnd(1)).toBe(FALLBACK);
    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT e.status, e.error FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
         WHERE s.session_id = 'llm-unreachable' AND e.stream_id = 1`,
      );
      expect(rows[0]).toEqual({
        status: 'failed',
        error: `LLM provider unreachable: connect ECONNREFUSED 127.0.0.1:${port}`,
      });
    });
    const metrics = await fetch(new URL('/metrics', t.wsUrl.replace('ws:', 'http:')), {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(await metrics.text()).toContain('millis_llm_errors_total{cause="unreachable"} 1');
    await client.close();
  });
});

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
