import request from 'supertest';
import { AgentProfileService } from '../../../src/agents/agent-profile.service';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

const API_KEY = 'profile-cache-key-0123456789';
const CACHE_MAX = 200;
const DISTINCT_AGENTS = 3_000;
const CONCURRENT_CALLS = 50;

describe('Agent profile cache under caller-chosen agent ids', () => {
  let t: TestApp;
  let profiles: AgentProfileService;

  beforeAll(async () => {
    t = await startTestApp({
      env: { API_KEY, GREETING: 'Default hello.', AGENT_PROFILE_CACHE_MAX: String(CACHE_MAX) },
    });
    profiles = t.app.get(AgentProfileService);
    await t.db.query('DELETE FROM agent_profiles');
    for (const agent of ['known-a', 'known-b']) {
      await request(t.app.getHttpServer())
        .put(`/api/agents/${agent}`)
        .set('x-api-key', API_KEY)
        .send({ greeting: `Hello from ${agent}.` })
        .expect(201);
    }
  });
  afterAll(() => t.close());

  async function greetingFor(agentId: string, sessionId: string): Promise<string> {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: sessionId, agent_id: agentId });
    const greeting = await client.waitForEnd(0);
    await client.close();
    return greeting;
  }

  it(`stays at AGENT_PROFILE_CACHE_MAX after calls from ${DISTINCT_AGENTS} distinct agent ids, and known profiles still resolve`, async () => {
    expect(await greetingFor('known-a', 'cache-known-a-before')).toBe('Hello from known-a.');

    for (let start = 0; start < DISTINCT_AGENTS; start += CONCURRENT_CALLS) {
      const batch = Array.from({ length: CONCURRENT_CALLS }, (_, i) => start + i);
      const greetings = await Promise.all(batch.map((n) => greetingFor(`random-agent-${n}`, `cache-flood-${n}`)));
      expect(new Set(greetings)).toEqual(new Set(['Default hello.']));
      expect(profiles.cachedAgents).toBeLessThanOrEqual(CACHE_MAX);
    }
    expect(profiles.cachedAgents).toBe(CACHE_MAX);

    // Both known profiles were pushed out by the flood: they are read again, not lost.
    expect(await greetingFor('known-a', 'cache-known-a-after')).toBe('Hello from known-a.');
    expect(await greetingFor('known-b', 'cache-known-b-after')).toBe('Hello from known-b.');
    expect(profiles.cachedAgents).toBe(CACHE_MAX);

    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT count(DISTINCT agent_id)::int AS agents FROM call_sessions WHERE session_id LIKE 'cache-%'`,
      );
      expect(rows[0].agents).toBe(DISTINCT_AGENTS + 2);
    }, 20_000);
  }, 120_000);

  it('applies an API write at once even to an agent no longer cached', async () => {
    for (let start = 0; start < CACHE_MAX; start += CONCURRENT_CALLS) {
      await Promise.all(
        Array.from({ length: CONCURRENT_CALLS }, (_, i) =>
          greetingFor(`second-flood-${start + i}`, `cache-second-flood-${start + i}`),
        ),
      );
    }
    await request(t.app.getHttpServer())
      .patch('/api/agents/known-b')
      .set('x-api-key', API_KEY)
      .send({ greeting: 'Changed.' })
      .expect(200);

    expect(await greetingFor('known-b', 'cache-known-b-changed')).toBe('Changed.');
  });
});
