import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

describe('Without DATABASE_URL (embedded Postgres)', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'embedded-pg-'));

  beforeAll(async () => {
    t = await startTestApp({ keepData: true, env: { DATABASE_URL: '', EMBEDDED_DB_DIR: dir, GREETING: 'Hi there.' } });
  }, 120_000);
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the same migrations and records a call', async () => {
    const dataSource = t.app.get(DataSource);
    expect(dataSource.options).toMatchObject({
      url: expect.stringMatching(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/),
    });
    const migrations = await dataSource.query('SELECT name FROM schema_migrations');
    expect(migrations.map((m: { name: string }) => m.name)).toEqual(dataSource.migrations.map((m) => m.name));

    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'embedded-1', voip: { from: '+100', to: '+200' } });
    expect(await client.waitForEnd(0)).toBe('Hi there.');
    client.streamRequest(1, [{ role: 'user', content: 'Is this stored?' }]);
    expect(await client.waitForEnd(1)).toBe('You said: Is this stored?.');
    await client.close();

    await eventually(async () => {
      const rows = await dataSource.query(`
        SELECT s.status, count(e.id)::int AS exchanges FROM call_sessions s
        JOIN stream_exchanges e ON e.call_session_id = s.id WHERE s.session_id = 'embedded-1' GROUP BY s.status`);
      expect(rows).toEqual([{ status: 'ended', exchanges: 2 }]);
    });
  });
});
