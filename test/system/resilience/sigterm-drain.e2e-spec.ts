import { upgradeUntilRefused } from '../../support/raw-http';
import { drainedRows, LONG_REPLY, repliesInFlight } from '../support/drain';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { inBatches, spawnService } from '../support/service-process';
import { useProcessSuite } from '../support/process-suite';

const CALLS = 50;

describe('SIGTERM with 50 calls mid-reply', () => {
  // About 2 s per reply: SIGTERM lands in the middle of every one.
  const suite = useProcessSuite({ firstTokenDelayMs: 20, tokenDelayMs: 50, defaultReply: LONG_REPLY });

  it('refuses new calls, lets the replies finish (through a second signal), flushes the audit and exits 0', async () => {
    const { fake, db } = suite;
    const service = (suite.service = await spawnService({
      OPENAI_BASE_URL: fake.baseUrl,
      GREETING: 'Hi.',
      SHUTDOWN_GRACE_MS: '10000',
      AUDIT_FLUSH_INTERVAL_MS: '200',
    }));
    const clients = await inBatches(CALLS, 10, () => MillisPlatformClient.connect(service.wsUrl));
    await repliesInFlight(clients, 'drain');

    const signalled = Date.now();
    service.kill('SIGTERM');
    const refused = await upgradeUntilRefused(service.wsUrl, signalled);
    expect(refused.status).toBe(503);
    // A terminal's Ctrl-C, or its closing, reaches the process again: the drain goes on regardless.
    service.kill('SIGINT');
    service.kill('SIGHUP');
    const ready = await fetch(`${service.httpUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: Record<string, unknown> }).error.calls).toMatchObject({
      status: 'down',
      draining: true,
    });
    // Every reply in flight reaches its end, whole.
    const texts = await Promise.all(clients.map((c) => c.waitForEnd(1, 10_000)));
    expect(texts.every((text) => text === LONG_REPLY)).toBe(true);

    const { code } = await service.exited;
    const shutdownMs = Date.now() - signalled;
    expect(code).toBe(0);
    expect(clients.every((c) => c.closeCode === 1001)).toBe(true);
    console.log(`SIGTERM with ${CALLS} calls mid-reply: exit 0 after ${shutdownMs} ms`);

    expect(await drainedRows(db)).toEqual({ sessions: CALLS, exchanges: CALLS * 2, whole_replies: CALLS });
  });
});
