import request from 'supertest';
import { MetricsService } from '../../../src/observability/metrics.service';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { ANALYSED_AGENT, ANALYSIS_API_KEY, analysisOf, analysisRequests, placeCall } from './analysis-test-kit';

/** Post-call analysis through the real `openai` client against the fake LLM. */
describe('Post-call analysis', () => {
  let t: TestApp;
  const api = () => request(t.app.getHttpServer());
  const auth = { 'x-api-key': ANALYSIS_API_KEY };

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        API_KEY: ANALYSIS_API_KEY,
        ANALYSIS_MAX_ATTEMPTS: '3',
        ANALYSIS_RETRY_DELAY_SECONDS: '1',
        CALL_EVENTS_POLL_MS: '100',
      },
    });
    await t.db.query('DELETE FROM agent_profiles');
    await api().put('/api/agents/front-desk').set(auth).send(ANALYSED_AGENT).expect(201);
    await api().put('/api/agents/quiet-desk').set(auth).send({ name: 'No analysis' }).expect(201);
  });
  afterAll(() => t.close());

  it('stores the summary, outcome, sentiment and the custom fields of the agent profile', async () => {
    await placeCall(t.wsUrl, 'analysis-booked', 'front-desk', [
      'I would like an appointment on the gold plan, order number A-17',
      'Thanks, follow up next week please',
    ]);

    const row = await eventually(async () => {
      const analysis = await analysisOf(t.db, 'analysis-booked');
      expect(analysis?.status).toBe('completed');
      return analysis!;
    }, 15_000);
    expect(row).toMatchObject({
      outcome: 'follow_up',
      sentiment: 'neutral',
      custom_fields: { appointment_booked: true, order_number: 'a-17', plan: 'gold' },
      model: 'fake-model',
      attempts: 1,
      error: null,
    });
    // The fake retells the first words said (the greeting first).
    expect(row.summary).toMatch(/^The caller said: .+\.$/);
    expect(row.prompt_tokens).toBeGreaterThan(10);
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(row.duration_ms).toEqual(expect.any(Number));

    const [asked] = analysisRequests(t.fakeLlm, 'order number A-17');
    expect(asked.body.response_format).toMatchObject({ type: 'json_schema', json_schema: { strict: true } });
    expect(JSON.stringify(asked.body.messages)).toContain('Calls of the front desk.');

    const detail = await api().get('/api/calls/analysis-booked').set(auth).expect(200);
    expect(detail.body.analysis).toMatchObject({
      status: 'completed',
      outcome: 'follow_up',
      custom_fields: { appointment_booked: true },
    });
    expect(detail.body).toMatchObject({ analysis_status: 'completed', outcome: 'follow_up', sentiment: 'neutral' });

    const metrics = await t.app.get(MetricsService).registry.metrics();
    expect(metrics).toMatch(/^millis_call_analyses_total\{status="completed"\} [1-9]/m);
    expect(metrics).toMatch(/^millis_call_analysis_tokens_total\{kind="prompt"\} [1-9]/m);
    expect(metrics).toMatch(/^millis_call_analysis_duration_seconds_count\{status="completed"\} [1-9]/m);
  });

  it('keeps the analysis settings of an agent profile, and refuses invalid ones with the reason', async () => {
    const profile = await api().get('/api/agents/front-desk').set(auth).expect(200);
    expect(profile.body.analysis).toEqual({
      enabled: true,
      outcomes: null,
      custom_fields: ANALYSED_AGENT.analysis.custom_fields,
      instructions: 'Calls of the front desk.',
    });
    expect((await api().get('/api/agents/quiet-desk').set(auth).expect(200)).body.analysis).toBeNull();

    const refused = async (analysis: object, reason: RegExp) => {
      const res = await api().put('/api/agents/bad-desk').set(auth).send({ analysis }).expect(400);
      expect([res.body.message].flat().join('; ')).toMatch(reason);
    };
    await refused({ custom_fields: [{ name: 'Bad Name', type: 'string' }] }, /name must be 1 to 40 lower-case/);
    await refused({ custom_fields: [{ name: 'plan', type: 'enum' }] }, /values/);
    await refused({ custom_fields: [{ name: 'x', type: 'date' }] }, /type must be one of/);
    await refused({ custom_fields: [{ name: 'x', type: 'string', values: ['a'] }] }, /only for type enum/);
    await refused({ outcomes: ['won', 'won'] }, /"won" is listed twice/);
    await refused({ enabled: 'yes' }, /enabled must be a boolean/);
    await api().get('/api/agents/bad-desk').set(auth).expect(404);
  });

  it('analyses nothing for an agent without analysis (off by default)', async () => {
    await placeCall(t.wsUrl, 'analysis-off', 'quiet-desk', ['I want an appointment, quietly']);
    // Its end was handed to the listeners (in the transaction that marks it so): nothing was asked.
    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT ended_dispatched_at FROM call_sessions WHERE session_id = 'analysis-off'`,
      );
      expect(rows[0]?.ended_dispatched_at).toBeInstanceOf(Date);
    }, 15_000);
    expect(await analysisOf(t.db, 'analysis-off')).toBeUndefined();
    expect(analysisRequests(t.fakeLlm, 'appointment, quietly')).toHaveLength(0);
  });

  it('retries an answer that is not JSON, then marks the analysis failed with the reason', async () => {
    await placeCall(t.wsUrl, 'analysis-invalid', 'front-desk', ['[fake:invalid_json] my order is late']);

    const row = await eventually(async () => {
      const analysis = await analysisOf(t.db, 'analysis-invalid');
      expect(analysis?.status).toBe('failed');
      return analysis!;
    }, 30_000);
    expect(row.attempts).toBe(3);
    expect(row.error).toMatch(/^model answer is not valid JSON: /);
    expect(row.summary).toBeNull();
    expect(analysisRequests(t.fakeLlm, 'my order is late')).toHaveLength(3);
  });

  it('refuses an answer that does not match the schema with the validation errors', async () => {
    await placeCall(t.wsUrl, 'analysis-mismatch', 'front-desk', ['[fake:schema_mismatch] where is my parcel']);
    const row = await eventually(async () => {
      const analysis = await analysisOf(t.db, 'analysis-mismatch');
      expect(analysis?.status).toBe('failed');
      return analysis!;
    }, 30_000);
    expect(row.error).toMatch(/^model answer does not match the schema: .*answer\/summary must be string/);
  });

  it('filters the call list by outcome, sentiment and custom field values', async () => {
    await placeCall(t.wsUrl, 'analysis-filter-yes', 'front-desk', ['Book an appointment, transferred to sales']);
    await placeCall(t.wsUrl, 'analysis-filter-no', 'front-desk', ['What are your opening hours, order number 42']);
    for (const id of ['analysis-filter-yes', 'analysis-filter-no'])
      await eventually(async () => expect((await analysisOf(t.db, id))?.status).toBe('completed'), 15_000);

    const sessions = async (query: string) =>
      (await api().get(`/api/calls?agent_id=front-desk&${query}`).set(auth).expect(200)).body.items.map(
        (c: { session_id: string }) => c.session_id,
      );
    expect(await sessions('field.appointment_booked=true')).toEqual(
      expect.arrayContaining(['analysis-filter-yes', 'analysis-booked']),
    );
    expect(await sessions('field.appointment_booked=true')).not.toContain('analysis-filter-no');
    expect(await sessions('field.appointment_booked=false')).toContain('analysis-filter-no');
    // A number said as an order number is stored as text: the filter matches either.
    expect(await sessions('field.order_number=42')).toEqual(['analysis-filter-no']);
    expect(await sessions('outcome=transferred')).toEqual(['analysis-filter-yes']);
    expect(await sessions('outcome=transferred&sentiment=negative')).toEqual([]);
    expect(await sessions('sentiment=neutral&field.appointment_booked=true&field.plan=gold')).toEqual([
      'analysis-booked',
    ]);

    const bad = await api().get('/api/calls?field.Bad-Name=1').set(auth).expect(400);
    expect(JSON.stringify(bad.body.message)).toContain('field.Bad-Name');
    await api().get('/api/calls?sentiment=angry').set(auth).expect(400);

    const exported = await api().get('/api/calls/export?format=ndjson&outcome=transferred').set(auth).expect(200);
    const lines = exported.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({
        session_id: 'analysis-filter-yes',
        outcome: 'transferred',
        analysis_summary: expect.stringMatching(/^The caller said: /),
        custom_fields: expect.objectContaining({ appointment_booked: true }),
      }),
    ]);
  });

  it('analyses a call again on demand', async () => {
    const before = await analysisOf(t.db, 'analysis-booked');
    expect(before?.status).toBe('completed');
    const asked = analysisRequests(t.fakeLlm, 'order number A-17').length;

    const accepted = await api().post('/api/calls/analysis-booked/analysis').set(auth).send({}).expect(202);
    expect(accepted.body).toMatchObject({ status: 'pending', attempts: 0, summary: null });

    const after = await eventually(async () => {
      const analysis = await analysisOf(t.db, 'analysis-booked');
      expect(analysis?.status).toBe('completed');
      return analysis!;
    }, 15_000);
    expect(after.request_id).not.toBe(before?.request_id);
    expect(after.custom_fields).toEqual(before?.custom_fields);
    expect(analysisRequests(t.fakeLlm, 'order number A-17')).toHaveLength(asked + 1);

    // An agent without analysis: on demand all the same.
    await api().post('/api/calls/analysis-off/analysis').set(auth).send({}).expect(202);
    await eventually(async () => expect((await analysisOf(t.db, 'analysis-off'))?.status).toBe('completed'), 15_000);

    await api().post('/api/calls/no-such-call/analysis').set(auth).send({}).expect(404);
    await api().post('/api/calls/analysis-booked/analysis').send({}).expect(401);
  });
});
