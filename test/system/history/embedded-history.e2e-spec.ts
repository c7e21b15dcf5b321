import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { RetentionService } from '../../../src/retention/retention.service';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { API_KEY } from '../../support/history-fixtures';

describe('Call history on the embedded PostgreSQL', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'embedded-history-'));
  const get = (path: string) => request(t.app.getHttpServer()).get(path).set('x-api-key', API_KEY);

  beforeAll(async () => {
    t = await startTestApp({
      keepData: true,
      env: { DATABASE_URL: '', EMBEDDED_DB_DIR: dir, API_KEY, GREETING: 'Hi there.' },
    });
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({
      session_id: 'embedded-history-1',
      agent_id: 'support',
      voip: { from: '+1 555 0100', to: '+15550199' },
    });
    await client.waitForEnd(0);
    client.streamRequest(1, [{ role: 'user', content: 'Where is my parcel?' }]);
    await client.waitForEnd(1);
    await client.close();
    await eventually(async () => {
      const rows = await t.app
        .get(DataSource)
        .query(`SELECT status FROM call_sessions WHERE session_id = 'embedded-history-1'`);
      expect(rows).toEqual([{ status: 'ended' }]);
    });
  }, 120_000);
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the history migration and answers the list with every filter', async () => {
    const res = await get('/api/calls')
      .query({ phone: '+15550100', q: 'parcel', agent_id: 'support', status: 'ended', has_failures: false })
      .expect(200);
    expect(res.body.items).toMatchObject([
      { session_id: 'embedded-history-1', from_number: '+1 555 0100', turn_count: 1, summary: 'Where is my parcel?' },
    ]);
    const page = await get('/api/calls?limit=1').expect(200);
    expect(page.body.next_cursor).toBeNull();
  });

  it('answers the detail, transcript, stats and export', async () => {
    const detail = await get('/api/calls/embedded-history-1').expect(200);
    expect(detail.body.exchanges).toHaveLength(2);
    const transcript = await get('/api/calls/embedded-history-1/transcript').set('Accept', 'text/plain').expect(200);
    expect(transcript.text).toMatch(/Caller: Where is my parcel\?/);
    const stats = await get('/api/stats').expect(200);
    expect(stats.body.totals).toMatchObject({ calls: 1, turns: 1 });
    const exported = await get('/api/calls/export?format=csv').expect(200);
    expect(exported.text.trimEnd().split('\n')).toHaveLength(2);
  });

  it('redacts with the same SQL', async () => {
    const report = await t.app.get(RetentionService).run({ days: 1, mode: 'redact', dryRun: true });
    expect(report).toMatchObject({ calls: 0 });
    await t.app.get(DataSource).query(`UPDATE call_sessions SET started_at = started_at - interval '3 days'`);
    expect(await t.app.get(RetentionService).run({ days: 1, mode: 'redact' })).toMatchObject({
      calls: 1,
      exchanges: 2,
    });
    const detail = await get('/api/calls/embedded-history-1').expect(200);
    expect(detail.body).toMatchObject({ from_number: null, summary: '[redacted]' });
  });
});
