import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AppModule } from '../../../src/app.module';
import { AppConfig } from '../../../src/config/app-config';
import { configureApp } from '../../../src/configure-app';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { TEST_DATABASE_URL } from '../../support/test-database';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { API_KEY } from '../../support/history-fixtures';

describe('Call history API after real calls', () => {
  let t: TestApp;
  const api = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY, GREETING: 'Hello, this is Acme. How can I help?' } });

    const first = await MillisPlatformClient.connect(t.wsUrl);
    first.startCall({
      session_id: 'api-call-1',
      agent_id: 'support',
      metadata: { customer: 'Ada' },
      voip: { from: '+15550100', to: '+15550199' },
    });
    await first.waitForEnd(0);
    first.send({
      type: 'partial_transcript',
      data: { session_id: 'api-call-1', transcript: 'What are', is_final: false },
    });
    const turn1 = [
      { role: 'assistant' as const, content: 'Hello, this is Acme. How can I help?' },
      { role: 'user' as const, content: 'What are your opening hours' },
    ];
    first.streamRequest(1, turn1);
    const answer1 = await first.waitForEnd(1);
    t.fakeLlm.enqueue({ kind: 'text', tokenCount: 200, tokenDelayMs: 20 });
    const turn2 = [
      ...turn1,
      { role: 'assistant' as const, content: answer1 },
      { role: 'user' as const, content: 'Tell me a long story' },
    ];
    first.streamRequest(2, turn2);
    await first.waitUntil(() => first.responses(2).length >= 3, 5000, 'first tokens of stream 2');
    first.interrupt(2);
    await t.fakeLlm.waitForAbort(1);
    await first.close();

    const second = await MillisPlatformClient.connect(t.wsUrl);
    second.startCall({ session_id: 'api-call-2', agent_id: 'sales', voip: { from: '+15550222', to: '+15550199' } });
    await second.waitForEnd(0);
    await second.close();

    await eventually(async () => {
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM call_sessions WHERE status = 'ended'`);
      expect(rows[0].n).toBe(2);
      const { rows: exchanges } = await t.db.query(
        `SELECT count(*)::int AS n FROM stream_exchanges WHERE status <> 'streaming'`,
      );
      expect(exchanges[0].n).toBe(4);
    });
  });
  afterAll(() => t.close());

  describe('authentication', () => {
    it('answers 401 without a key, with a wrong key, and with a key in the wrong place', async () => {
      await api().get('/api/calls').expect(401);
      await api().get('/api/calls').set('x-api-key', 'wrong-key-wrong-key').expect(401);
      await api().get('/api/calls').set('Authorization', `Basic ${API_KEY}`).expect(401);
      await api().get(`/api/calls?api_key=${API_KEY}`).expect(401);
      const res = await api().get('/api/calls/api-call-1/transcript').expect(401);
      expect(res.body.message).toMatch(/API key/);
    });

    it('accepts the key as x-api-key or as a Bearer token, on every endpoint', async () => {
      await api().get('/api/calls').set('x-api-key', API_KEY).expect(200);
      await api().get('/api/calls').set('Authorization', `Bearer ${API_KEY}`).expect(200);
      for (const path of [
        '/api/calls/api-call-1',
        '/api/calls/api-call-1/transcript',
        '/api/phone-numbers/+15550100/calls',
        '/api/stats',
        '/api/calls/export',
      ]) {
        await api().get(path).expect(401);
        await api().get(path).set('x-api-key', API_KEY).expect(200);
      }
    });

    it('checks the key before validating the query', async () => {
      await api().get('/api/calls?from=yesterday').expect(401);
    });
  });

  it('lists the calls newest first with the list fields', async () => {
    const res = await api().get('/api/calls').set('x-api-key', API_KEY).expect(200);

    expect(res.body.next_cursor).toBeNull();
    expect(res.body.items.map((c: { session_id: string }) => c.session_id)).toEqual(['api-call-2', 'api-call-1']);
    const call = res.body.items[1];
    expect(call).toEqual({
      session_id: 'api-call-1',
      agent_id: 'support',
      call_sid: null,
      from_number: '+15550100',
      to_number: '+15550199',
      status: 'ended',
      end_reason: 'connection_closed',
      started_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      ended_at: expect.stringMatching(/Z$/),
      duration_ms: expect.any(Number),
      turn_count: 2,
      failed_exchanges: 0,
      has_failures: false,
      summary: 'What are your opening hours',
      redacted_at: null,
      analysis_status: null,
      outcome: null,
      sentiment: null,
    });
    expect(call.duration_ms).toBe(Date.parse(call.ended_at) - Date.parse(call.started_at));
  });

  it('finds a call by phone number, on either side, however the number is spaced', async () => {
    const byCaller = await api()
      .get('/api/calls')
      .query({ phone: '+1 555 0100' })
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(byCaller.body.items.map((c: { session_id: string }) => c.session_id)).toEqual(['api-call-1']);

    // An unencoded "+" in a query string arrives as a space: still the same digits.
    const byCallee = await api().get('/api/calls?phone=+15550199').set('x-api-key', API_KEY).expect(200);
    expect(byCallee.body.items).toHaveLength(2);

    const unknown = await api().get('/api/calls').query({ phone: '+19990000' }).set('x-api-key', API_KEY).expect(200);
    expect(unknown.body).toEqual({ items: [], next_cursor: null });
  });

  it('lists the calls of a phone number, and 404s for a number never seen', async () => {
    const res = await api().get('/api/phone-numbers/%2B15550222/calls').set('x-api-key', API_KEY).expect(200);
    expect(res.body.items.map((c: { session_id: string }) => c.session_id)).toEqual(['api-call-2']);
    const filtered = await api()
      .get('/api/phone-numbers/+15550199/calls?agent_id=support')
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(filtered.body.items.map((c: { session_id: string }) => c.session_id)).toEqual(['api-call-1']);

    const missing = await api().get('/api/phone-numbers/+19990000/calls').set('x-api-key', API_KEY).expect(404);
    expect(missing.body.message).toMatch(/unknown phone number/);
  });

  it('returns a call with its metadata, every exchange with timings, and every event, in time order', async () => {
    const res = await api().get('/api/calls/api-call-1').set('x-api-key', API_KEY).expect(200);
    const call = res.body;

    expect(call).toMatchObject({
      session_id: 'api-call-1',
      agent_id: 'support',
      metadata: { customer: 'Ada' },
      close_code: 1000,
    });
    expect(
      call.exchanges.map((e: { stream_id: number; kind: string; status: string }) => [e.stream_id, e.kind, e.status]),
    ).toEqual([
      [0, 'greeting', 'completed'],
      [1, 'reply', 'completed'],
      [2, 'reply', 'interrupted'],
    ]);
    const reply = call.exchanges[1];
    expect(reply).toMatchObject({
      user_text: 'What are your opening hours',
      response_text: 'You said: What are your opening hours.',
      model: 'fake-model',
      transcript: [
        { role: 'assistant', content: 'Hello, this is Acme. How can I help?' },
        { role: 'user', content: 'What are your opening hours' },
      ],
    });
    expect(reply).toMatchObject({ error: null, error_code: null });
    expect(reply.time_to_first_token_ms).toBeGreaterThanOrEqual(0);
    expect(reply.total_ms).toBeGreaterThanOrEqual(reply.time_to_first_token_ms);
    expect(reply.time_to_first_token_ms).toBeCloseTo(
      Date.parse(reply.first_token_at) - Date.parse(reply.requested_at),
      -1,
    );
    expect(call.events.map((e: { type: string; stream_id: number | null }) => [e.type, e.stream_id])).toEqual([
      ['partial_transcript', null],
      ['interrupt', 2],
    ]);
    const times = call.events.map((e: { received_at: string }) => Date.parse(e.received_at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("returns a failed reply's error code as the audit writer stored it", async () => {
    const at = new Date().toISOString();
    t.audit.recordSession({
      sessionId: 'api-call-failed',
      agentId: 'support',
      callSid: null,
      metadata: null,
      fromNumber: null,
      toNumber: null,
      status: 'ended',
      endReason: 'connection_closed',
      startedAt: at,
      endedAt: at,
      closeCode: 1000,
    });
    t.audit.recordExchange({
      id: randomUUID(),
      sessionId: 'api-call-failed',
      streamId: 1,
      kind: 'reply',
      transcript: [{ role: 'user', content: 'Are you there?' }],
      responseText: 'Sorry, could you say that again?',
      status: 'failed',
      model: 'fake-model',
      error: 'no first token within 3000 ms',
      errorCode: 'timeout',
      requestedAt: at,
      firstTokenAt: null,
      completedAt: at,
      promptTokens: null,
      completionTokens: null,
      totalTokens: null,
    });
    await t.audit.flush();

    const { body } = await api().get('/api/calls/api-call-failed').set('x-api-key', API_KEY).expect(200);
    expect(body.exchanges).toEqual([
      expect.objectContaining({ status: 'failed', error: 'no first token within 3000 ms', error_code: 'timeout' }),
    ]);
  });

  it('answers 404 for an unknown session', async () => {
    const res = await api().get('/api/calls/no-such-call').set('x-api-key', API_KEY).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, message: 'no call with session id no-such-call' });
    await api().get('/api/calls/no-such-call/transcript').set('x-api-key', API_KEY).expect(404);
  });

  it('gives the transcript as heard, as JSON by default', async () => {
    const res = await api().get('/api/calls/api-call-1/transcript').set('x-api-key', API_KEY).expect(200);

    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const lines = res.body.lines as Array<{ speaker: string; text: string; interrupted: boolean; offset_ms: number }>;
    expect(lines.map((l) => [l.speaker, l.interrupted])).toEqual([
      ['agent', false],
      ['caller', false],
      ['agent', false],
      ['caller', false],
      ['agent', true],
    ]);
    expect(lines.map((l) => l.text).slice(0, 4)).toEqual([
      'Hello, this is Acme. How can I help?',
      'What are your opening hours',
      'You said: What are your opening hours.',
      'Tell me a long story',
    ]);
    expect(lines[4].text.length).toBeGreaterThan(0);
    const offsets = lines.map((l) => l.offset_ms);
    expect([...offsets].sort((a, b) => a - b)).toEqual(offsets);
  });

  it('gives the transcript as plain text with Accept: text/plain, and 406 for a type it cannot give', async () => {
    const res = await api()
      .get('/api/calls/api-call-1/transcript')
      .set('x-api-key', API_KEY)
      .set('Accept', 'text/plain')
      .expect(200);

    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const lines = res.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Call api-call-1 \(agent support, \+15550100 -> \+15550199\), started /);
    expect(lines[1]).toMatch(/^\[0:00\.\d{3}\] Agent: Hello, this is Acme\. How can I help\?$/);
    expect(lines[2]).toMatch(/^\[0:0\d\.\d{3}\] Caller: What are your opening hours$/);
    expect(lines[5]).toMatch(/Agent: .* \[interrupted\]$/);

    await api()
      .get('/api/calls/api-call-1/transcript')
      .set('x-api-key', API_KEY)
      .set('Accept', 'image/png')
      .expect(406);
  });
});

describe('Call history API without API_KEY', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers 401 to every request, whatever key is presented', async () => {
    await request(t.app.getHttpServer()).get('/api/calls').expect(401);
    await request(t.app.getHttpServer()).get('/api/calls').set('x-api-key', '').expect(401);
    await request(t.app.getHttpServer()).get('/api/calls').set('Authorization', 'Bearer ').expect(401);
    await request(t.app.getHttpServer()).get('/api/stats').set('x-api-key', 'undefined').expect(401);
  });
});

describe('OpenAPI document', () => {
  let app: INestApplication;

  // configureApp serves the document; this suite builds its app without listening on a port.
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(AppConfig)
      .useValue(AppConfig.from({ DATABASE_URL: TEST_DATABASE_URL, API_KEY, LOG_LEVEL: 'error' }))
      .compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    configureApp(app);
    await app.init();
  });
  afterAll(() => app.close());
  const api = () => request(app.getHttpServer());

  it('serves an OpenAPI document describing every endpoint and schema', async () => {
    const ui = await api().get('/api/docs').expect(200);
    expect(ui.text).toMatch(/swagger/i);
    const { body: doc } = await api().get('/api/docs-json').expect(200);

    const operations = Object.entries(
      doc.paths as Record<
        string,
        Record<string, { summary?: string; responses: Record<string, unknown>; security?: unknown[] }>
      >,
    )
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, ...op })),
      );
    expect(operations.map((o) => o.id).sort()).toEqual([
      'DELETE /api/agents/{agentId}',
      'DELETE /api/webhooks/{id}',
      'GET /api/agents',
      'GET /api/agents/{agentId}',
      'GET /api/calls',
      'GET /api/calls/export',
      'GET /api/calls/{sessionId}',
      'GET /api/calls/{sessionId}/transcript',
      'GET /api/jobs',
      'GET /api/jobs/failed',
      'GET /api/live',
      'GET /api/phone-numbers/{number}/calls',
      'GET /api/stats',
      'GET /api/tools',
      'GET /api/webhooks',
      'GET /api/webhooks/deliveries',
      'GET /api/webhooks/{id}',
      'PATCH /api/agents/{agentId}',
      'PATCH /api/webhooks/{id}',
      'POST /api/calls/{sessionId}/analysis',
      'POST /api/webhooks',
      'POST /api/webhooks/deliveries/{id}/redeliver',
      'POST /api/webhooks/{id}/rotate-secret',
      'PUT /api/agents/{agentId}',
    ]);
    for (const op of operations) {
      expect(op.summary).toBeTruthy();
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining([expect.stringMatching(/^20[0-4]$/), '401']));
      expect(op.security).toEqual(expect.arrayContaining([{ 'api-key': [] }, { bearer: [] }]));
    }
    const schemas = doc.components.schemas as Record<string, { properties: Record<string, unknown> }>;
    for (const name of [
      'CallPageDto',
      'CallSummaryDto',
      'CallDetailDto',
      'ExchangeDto',
      'CallEventDto',
      'CallTranscriptDto',
      'CallStatsDto',
      'CallExportRowDto',
    ]) {
      expect(Object.keys(schemas[name]?.properties ?? {}).length).toBeGreaterThan(0);
    }
    const listParams = doc.paths['/api/calls'].get.parameters as Array<{ name: string; description?: string }>;
    expect(listParams.map((p) => p.name).sort()).toEqual([
      'agent_id',
      'cursor',
      'field.<name>',
      'from',
      'has_failures',
      'limit',
      'outcome',
      'phone',
      'q',
      'sentiment',
      'status',
      'to',
    ]);
    expect(listParams.every((p) => p.description)).toBe(true);
  });
});
