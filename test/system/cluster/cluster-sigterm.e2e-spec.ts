import { upgradeUntilRefused } from '../../support/raw-http';
import { drainedRows, LONG_REPLY, repliesInFlight } from '../support/drain';
import { useProcessSuite } from '../support/process-suite';
import { spawnService } from '../support/service-process';
import { alive, connectOneByOne, logRecords, readyWorkers, slotOf } from './support/cluster-client';

const CALLS = 30;

describe('WORKERS=2, SIGTERM with calls mid-reply on both workers', () => {
  // About 2 s per reply: SIGTERM lands in the middle of every one.
  const suite = useProcessSuite({ firstTokenDelayMs: 20, tokenDelayMs: 50, defaultReply: LONG_REPLY });

  it('has every worker refuse new calls and finish its replies, flushes every row, and the whole process tree exits 0', async () => {
    const { fake, db } = suite;
    const env = {
      OPENAI_BASE_URL: fake.baseUrl,
      GREETING: 'Hi.',
      SHUTDOWN_GRACE_MS: '10000',
      AUDIT_FLUSH_INTERVAL_MS: '200',
      LOG_LEVEL: 'log',
      LOG_FORMAT: 'json',
    };
    const service = (suite.service = await spawnService(env, { workers: 2 }));
    const workerPids = [...readyWorkers(service).values()];
    const clients = await connectOneByOne(CALLS, service.wsUrl);
    await repliesInFlight(clients, 'cluster-drain');

    const signalled = Date.now();
    service.kill('SIGTERM');
    const refused = await upgradeUntilRefused(service.wsUrl, signalled);
    expect(refused.status).toBe(503);
    // A terminal's Ctrl-C, or its closing, reaches the primary again: the drain goes on regardless.
    service.kill('SIGINT');
    service.kill('SIGHUP');
    // Every reply in flight reaches its end, whole.
    const texts = await Promise.all(clients.map((c) => c.waitForEnd(1, 10_000)));
    expect(texts.every((text) => text === LONG_REPLY)).toBe(true);

    const { code } = await service.exited;
    const shutdownMs = Date.now() - signalled;
    expect(code).toBe(0);
    expect(workerPids.filter(alive)).toEqual([]);
    expect(clients.every((c) => c.closeCode === 1001)).toBe(true);
    expect(
      logRecords(service)
        .filter((r) => /received again/.test(String(r.msg)))
        .map((r) => r.pid),
    ).toContain(service.child.pid);
    console.log(`WORKERS=2, SIGTERM with ${CALLS} calls mid-reply: the primary exited 0 after ${shutdownMs} ms`);

    expect(await drainedRows(db)).toEqual({ sessions: CALLS, exchanges: CALLS * 2, whole_replies: CALLS });
    // Both workers were serving replies when the signal came.
    const { rows: perWorker } = await db.query<{ name: string; n: number }>(
      `SELECT i.name, count(*)::int AS n FROM call_sessions s JOIN service_instances i ON i.id = s.instance_id GROUP BY i.name`,
    );
    expect(perWorker.map((row) => slotOf(row.name)).sort()).toEqual([1, 2]);
  });
});
