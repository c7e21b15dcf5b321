import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually } from '../../support/eventually';
import { inBatches, readMetric, spawnService } from '../support/service-process';
import { useProcessSuite } from '../support/process-suite';

const CALLS = 500;
const LOAD_MS = 10_000;
const REPLY = 'One two three four five six seven eight nine ten.';

describe('500 calls held open with traffic', () => {
  const suite = useProcessSuite({ firstTokenDelayMs: 100, tokenDelayMs: 20, defaultReply: REPLY });

  // Event-loop delay is reported, not asserted: speed targets live in `npm run bench`, where the machine is quiet.
  it('get every reply whole under sustained traffic and are all stored', async () => {
    const { fake, db } = suite;
    const service = (suite.service = await spawnService({ OPENAI_BASE_URL: fake.baseUrl, GREETING: 'Hi.' }));
    const clients = await inBatches(CALLS, 50, () => MillisPlatformClient.connect(service.wsUrl));
    clients.forEach((c, i) => c.startCall({ session_id: `loop-${i}`, voip: { from: `+1888${i}`, to: '+18880000' } }));
    await Promise.all(clients.map((c) => c.waitForEnd(0, 15_000)));
    expect(await service.metric('millis_calls_active')).toBe(CALLS);

    // One turn each first, so first-use costs (module loading, JIT, connection pools) are not measured.
    clients.forEach((c) => c.streamRequest(1, [{ role: 'user', content: 'warm up' }]));
    await Promise.all(clients.map((c) => c.waitForEnd(1, 15_000)));

    // prom-client resets its event-loop histogram at every scrape: this one starts the window.
    await service.scrape();
    const loadEnds = Date.now() + LOAD_MS;
    let replies = 0;
    await Promise.all(
      clients.map(async (c, i) => {
        // The load's shape: calls start their turns spread over one think time, not all at once.
        await new Promise((r) => setTimeout(r, (i * 8) % 4000));
        for (let turn = 2; Date.now() < loadEnds; turn++) {
          c.send({
            type: 'partial_transcript',
            data: { session_id: `loop-${i}`, transcript: 'one two', is_final: false },
          });
          c.streamRequest(turn, [{ role: 'user', content: `turn ${turn}` }]);
          expect(await c.waitForEnd(turn, 10_000)).toBe(REPLY);
          replies += 1;
          // The caller thinks before the next turn.
          await new Promise((r) => setTimeout(r, 4000));
        }
      }),
    );
    const metrics = await service.scrape();
    const p99 = readMetric(metrics, 'nodejs_eventloop_lag_p99_seconds')! * 1000;
    const max = readMetric(metrics, 'nodejs_eventloop_lag_max_seconds')! * 1000;
    console.log(
      `${CALLS} calls, ${replies} replies in ${LOAD_MS / 1000} s: event-loop delay p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
    );
    expect(replies).toBeGreaterThanOrEqual(CALLS);
    expect(await service.metric('millis_calls_active')).toBe(CALLS);

    await Promise.all(clients.map((c) => c.close()));
    await eventually(async () => {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM call_sessions WHERE status = 'ended'`);
      expect(rows[0].n).toBe(CALLS);
    }, 10_000);
  });
});
