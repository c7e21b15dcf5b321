import request from 'supertest';
import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { ANALYSED_AGENT, ANALYSIS_API_KEY, analysisRequests, placeCall } from './analysis-test-kit';

/**
 * Two instances of the service on one database, each with its lifecycle dispatcher and job
 * workers: every ended call is analysed once, by one of them.
 */
describe('Post-call analysis with two instances', () => {
  const fakeLlm = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 2 });
  let a: TestApp;
  let b: TestApp;
  const env = { API_KEY: ANALYSIS_API_KEY, ANALYSIS_RETRY_DELAY_SECONDS: '1', CALL_EVENTS_POLL_MS: '100' };

  beforeAll(async () => {
    await fakeLlm.start();
    a = await startTestApp({ fakeLlm, env: { ...env, INSTANCE_NAME: 'analysis-a' } });
    await a.db.query('DELETE FROM agent_profiles');
    await request(a.app.getHttpServer())
      .put('/api/agents/twin-desk')
      .set({ 'x-api-key': ANALYSIS_API_KEY })
      .send(ANALYSED_AGENT)
      .expect(201);
    b = await startTestApp({ fakeLlm, keepData: true, env: { ...env, INSTANCE_NAME: 'analysis-b' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fakeLlm.stop();
  });

  it('stores one analysis per call and asks the model once per call', async () => {
    const calls = Array.from({ length: 6 }, (_, i) => `twin-call-${i}`);
    await Promise.all(
      calls.map((id, i) => placeCall((i % 2 ? b : a).wsUrl, id, 'twin-desk', [`appointment please, ticket ${id}x`])),
    );

    await eventually(async () => {
      const { rows } = await a.db.query(
        `SELECT s.session_id, a.status FROM call_analyses a JOIN call_sessions s ON s.id = a.call_session_id
         WHERE s.session_id LIKE 'twin-call-%' ORDER BY s.session_id`,
      );
      expect(rows).toEqual(calls.map((session_id) => ({ session_id, status: 'completed' })));
    }, 20_000);
    const { rows: counted } = await a.db.query(
      `SELECT count(*)::int AS n FROM call_analyses a JOIN call_sessions s ON s.id = a.call_session_id
       WHERE s.session_id LIKE 'twin-call-%'`,
    );
    expect(counted[0].n).toBe(calls.length);
    for (const id of calls) expect(analysisRequests(fakeLlm, `ticket ${id}x`)).toHaveLength(1);
  });
});
