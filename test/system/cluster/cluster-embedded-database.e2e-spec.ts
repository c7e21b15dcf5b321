import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { ServiceProcess, spawnService, stopService } from '../support/service-process';
import { eventually } from '../../support/eventually';
import { alive, connectOneByOne, logRecords, readyWorkers } from './support/cluster-client';

const CALLS = 6;

describe('WORKERS=2 without DATABASE_URL', () => {
  // The folder itself becomes the data directory (handed to the postgres user when run as root).
  const dir = mkdtempSync(join(tmpdir(), 'cluster-pg-'));
  let fake: FakeLlmServer;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 2 });
    await fake.start();
  });
  afterAll(async () => {
    await stopService(service);
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.password`, { force: true });
  });

  it('has the primary run one embedded PostgreSQL for every worker, and stop it after they have drained', async () => {
    service = await spawnService(
      {
        DATABASE_URL: '',
        ALLOW_EMBEDDED_DATABASE: 'true',
        EMBEDDED_DB_DIR: dir,
        OPENAI_BASE_URL: fake.baseUrl,
        GREETING: 'Hi.',
        LOG_LEVEL: 'log',
        LOG_FORMAT: 'json',
      },
      { workers: 2 },
    );
    const started = logRecords(service).filter((r) => /^Embedded PostgreSQL in /.test(String(r.msg)));
    expect(started).toEqual([expect.objectContaining({ pid: service.child.pid })]);
    const port = /on 127\.0\.0\.1:(\d+) /.exec(String(started[0].msg))![1];
    const postgresPid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect([...readyWorkers(service).values()]).not.toContain(postgresPid);

    const clients = await connectOneByOne(CALLS, service.wsUrl);
    clients.forEach((c, i) => c.startCall({ session_id: `embedded-cluster-${i}` }));
    await Promise.all(clients.map((c) => c.waitForEnd(0)));
    clients.forEach((c, i) => c.streamRequest(1, [{ role: 'user', content: `stored ${i}?` }]));
    await Promise.all(clients.map((c) => c.waitForEnd(1)));
    await Promise.all(clients.map((c) => c.close()));

    const password = readFileSync(`${dir}.password`, 'utf8').trim();
    const db = new Client({
      connectionString: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    });
    await db.connect();
    try {
      await eventually(async () => {
        const { rows } = await db.query(`
          SELECT (SELECT count(*)::int FROM call_sessions WHERE status = 'ended') AS sessions,
                 (SELECT count(DISTINCT instance_id)::int FROM call_sessions) AS instances,
                 (SELECT count(*)::int FROM stream_exchanges WHERE status = 'completed') AS exchanges`);
        expect(rows[0]).toEqual({ sessions: CALLS, instances: 2, exchanges: CALLS * 2 });
      }, 10_000);
    } finally {
      await db.end();
    }

    service.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);
    expect(alive(postgresPid)).toBe(false);
  });
});
