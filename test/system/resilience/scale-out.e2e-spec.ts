import { Pool } from 'pg';
import { FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually } from '../../support/eventually';
import { TEST_DATABASE_URL } from '../../support/test-database';
import { inBatches, ServiceProcess, spawnService, stopService } from '../support/service-process';

const CALLS = 200;
const TURNS = 2;

describe('Two instances, one Postgres', () => {
  const database = `ops_scale_out_${process.pid}`;
  const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  let db: Pool;
  let fake: FakeLlmServer;
  let instances: ServiceProcess[] = [];

  beforeAll(async () => {
    // An empty database of its own, so both instances really race to create the schema.
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${database}`;
    db = new Pool({ connectionString: url.toString(), max: 2 });
    // The teardown drops this database WITH (FORCE): an idle connection being terminated then is expected.
    db.on('error', (error: Error & { code?: string }) => {
      if (error.code !== '57P01') throw error;
    });
    fake = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
    await fake.start();
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => stopService(i)));
    await fake.stop();
    await db.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('start together on an empty database (migration lock) and record every call once', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${database}`;
    const env = { DATABASE_URL: url.toString(), OPENAI_BASE_URL: fake.baseUrl, GREETING: 'Hi.' };
    instances = await Promise.all([spawnService(env), spawnService(env)]);
    const { rows: migrations } = await db.query(
      `SELECT count(*)::int AS n, count(DISTINCT name)::int AS distinct FROM schema_migrations`,
    );
    expect(migrations[0].n).toBe(migrations[0].distinct);

    const clients = await inBatches(CALLS, 40, (i) => MillisPlatformClient.connect(instances[i % 2].wsUrl));
    clients.forEach((c, i) =>
      c.startCall({ session_id: `scale-${i}`, voip: { from: `+1999${i % 10}`, to: '+19990000' } }),
    );
    await Promise.all(clients.map((c) => c.waitForEnd(0)));
    for (let turn = 1; turn <= TURNS; turn++) {
      clients.forEach((c, i) => c.streamRequest(turn, [{ role: 'user', content: `call ${i} turn ${turn}` }]));
      await Promise.all(clients.map((c) => c.waitForEnd(turn)));
    }
    await Promise.all(clients.map((c) => c.close()));

    await eventually(async () => {
      const { rows } = await db.query(`
        SELECT (SELECT count(*)::int FROM call_sessions WHERE status = 'ended') AS sessions,
               (SELECT count(DISTINCT instance_id)::int FROM call_sessions) AS instances,
               (SELECT count(*)::int FROM stream_exchanges WHERE status = 'completed') AS exchanges,
               (SELECT count(*)::int FROM (SELECT call_session_id, stream_id FROM stream_exchanges GROUP BY 1, 2 HAVING count(*) > 1) d) AS duplicates,
               (SELECT count(*)::int FROM phone_numbers) AS phones`);
      expect(rows[0]).toEqual({
        sessions: CALLS,
        instances: 2,
        exchanges: CALLS * (TURNS + 1),
        duplicates: 0,
        phones: 11,
      });
    }, 10_000);
    // Each instance sees the other alive: neither closed the other's calls as crashed.
    const { rows: crashed } = await db.query(
      `SELECT count(*)::int AS n FROM call_sessions WHERE end_reason = 'crashed'`,
    );
    expect(crashed[0].n).toBe(0);
  });
});
