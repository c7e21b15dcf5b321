import { upgradeUntilRefused } from '../security/support-http';
import { MillisPlatformClient } from '../support/millis-platform-client';
import { inBatches, spawnService } from './support/service-process';
import { useProcessSuite } from './support/process-suite';

const CALLS = 50;
const REPLY = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ') + '.';

describe('SIGTERM with 50 calls mid-reply', () => {
  // About 2 s per reply: SIGTERM lands in the middle of every one.
  const suite = useProcessSuite({ firstTokenDelayMs: 20, tokenDelayMs: 50, defaultReply: REPLY });

  it('refuses new calls, lets the replies finish (through a second signal), flushes the audit and exits 0', async () => {
    const { fake, db } = suite;
    const service = (suite.service = await spawnService({ OPENAI_BASE_URL: fake.baseUrl, GREETING: 'Hi.', SHUTDOWN_GRACE_MS: '10000', AUDIT_FLUSH_INTERVAL_MS: '200' }));
    const clients = await inBatches(CALLS, 10, (i) => MillisPlatformClient.connect(service.wsUrl));
    clients.forEach((c, i) => c.startCall({ session_id: `drain-${i}` }));
    await Promise.all(clients.map((c) => c.waitForEnd(0)));
    clients.forEach((c, i) => c.streamRequest(1, [{ role: 'user', content: `question ${i}` }]));
    await Promise.all(clients.map((c) => c.waitUntil(() => c.responses(1).length > 0, 5000, 'first piece')));

    const signalled = Date.now();
    service.kill('SIGTERM');
    const refused = await upgradeUntilRefused(service.wsUrl, signalled);
    expect(refused.status).toBe(503);
    // A terminal's Ctrl-C, or its closing, reaches the process again: the drain goes on regardless.
    service.kill('SIGINT');
    service.kill('SIGHUP');
    const ready = await fetch(`${service.httpUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: Record<string, unknown> }).error.calls).toMatchObject({ status: 'down', draining: true });
    // Every reply in flight reaches its end, whole.
    const texts = await Promise.all(clients.map((c) => c.waitForEnd(1, 10_000)));
    expect(texts.every((text) => text === REPLY)).toBe(true);

    const { code } = await service.exited;
    const shutdownMs = Date.now() - signalled;
    expect(code).toBe(0);
    expect(clients.every((c) => c.closeCode === 1001)).toBe(true);
    console.log(`SIGTERM with ${CALLS} calls mid-reply: exit 0 after ${shutdownMs} ms`);

    const { rows } = await db.query(`
      SELECT (SELECT count(*)::int FROM call_sessions WHERE status = 'ended' AND end_reason = 'shutdown') AS sessions,
             (SELECT count(*)::int FROM stream_exchanges WHERE status = 'completed') AS exchanges,
             (SELECT count(*)::int FROM stream_exchanges WHERE kind = 'reply' AND response_text = $1) AS whole_replies`, [REPLY]);
    expect(rows[0]).toEqual({ sessions: CALLS, exchanges: CALLS * 2, whole_replies: CALLS });
  });
});
