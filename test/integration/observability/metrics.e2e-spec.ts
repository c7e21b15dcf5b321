import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { startTestApp, TestApp } from '../../support/test-app';

const METRICS_TOKEN = 'metrics-token-for-metrics-tests';
const promtoolFound = spawnSync('promtool', ['--version']).error === undefined;

describe('/metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_TOKEN, METRICS_MAX_AGENT_LABELS: '5', GREETING: 'Hi.' } });
  });
  afterAll(() => t.close());

  const scrape = async () =>
    (await request(t.app.getHttpServer()).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200))
      .text;

  async function call(agentId: string, sessionId: string): Promise<void> {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: sessionId, agent_id: agentId });
    await client.waitForEnd(0);
    await client.close();
  }

  const agentSeries = (text: string) =>
    Object.fromEntries(
      [...text.matchAll(/^millis_calls_started_total\{agent_id="([^"]*)"\} (\d+)$/gm)].map(([, agent, count]) => [
        agent,
        Number(count),
      ]),
    );

  it('keeps one series per agent for the METRICS_MAX_AGENT_LABELS most used, the rest under "other"', async () => {
    for (let i = 0; i < 30; i++) await call(`one-off-${i}`, `metrics-one-off-${i}`);
    let series = agentSeries(await scrape());
    expect(Object.keys(series)).toHaveLength(6);
    expect(series.other).toBe(25);
    expect(Object.values(series).reduce((a, b) => a + b, 0)).toBe(30);

    // An agent that arrives late but is used much more takes a place at the next scrape.
    for (let i = 0; i < 4; i++) await call('busy-agent', `metrics-busy-${i}`);
    series = agentSeries(await scrape());
    expect(series['busy-agent']).toBeUndefined();
    expect(series.other).toBe(29);
    await call('busy-agent', 'metrics-busy-4');
    series = agentSeries(await scrape());
    expect(Object.keys(series)).toHaveLength(6);
    expect(series['busy-agent']).toBe(1);
    // Counters never go down: the calls before it had a place stay under "other".
    expect(series.other).toBe(29);
  });

  it('drops the prom-client gauges named like counters, and keeps their per-type gauges', async () => {
    const text = await scrape();
    expect(text).not.toMatch(/^nodejs_active_(handles|requests|resources)_total/m);
    expect(text).toMatch(/^# TYPE nodejs_active_handles gauge$/m);
    expect(text).toMatch(/^# TYPE nodejs_active_resources gauge$/m);
  });

  (promtoolFound ? it : it.skip)('passes `promtool check metrics`', async () => {
    await call('promtool-agent', 'metrics-promtool');
    const text = await scrape();
    expect(text).toContain('millis_reply_time_to_first_token_seconds_bucket');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect({ status: check.status, problems: `${check.stdout}${check.stderr}`.trim() }).toEqual({
      status: 0,
      problems: '',
    });
  });

  if (!promtoolFound) {
    it('promtool is not installed: `promtool check metrics` was skipped (apt-get install prometheus, or put promtool on PATH)', () => {
      console.warn('promtool not found on PATH: the /metrics lint was skipped');
    });
  }
});
