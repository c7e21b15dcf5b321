import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import request from 'supertest';
import { RetentionService } from '../../../src/retention/retention.service';
import { TEST_DATABASE_URL } from '../../support/test-database';
import { startTestApp, TestApp } from '../../support/test-app';
import { API_KEY, seedCall, simpleCall } from '../../support/history-fixtures';

const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3_600_000);

async function seedOldAndNew(t: TestApp): Promise<void> {
  // Old calls share +15550100 with a recent one; +15550111 is only on old calls.
  await seedCall(t.db, {
    ...simpleCall('old-1', daysAgo(40), { from: '+15550111', metadata: { customer: 'Ada' } }),
    events: [{ type: 'partial_transcript', payload: { transcript: 'What are', is_final: false }, atMs: 1000 }],
  });
  await seedCall(t.db, simpleCall('old-2', daysAgo(35), { from: '+15550100' }));
  await seedCall(t.db, simpleCall('old-3', daysAgo(31), { from: '+15550111' }));
  await seedCall(t.db, simpleCall('new-1', daysAgo(2), { from: '+15550100' }));
  await t.db.query(
    `INSERT INTO call_events (id, call_session_id, type, payload, received_at) VALUES
       (gen_random_uuid(), NULL, 'invalid', '{"reason": "not_json"}', $1), (gen_random_uuid(), NULL, 'invalid', '{"reason": "not_json"}', $2)`,
    [daysAgo(40), daysAgo(1)],
  );
  await t.db.query(`UPDATE phone_numbers SET last_seen_at = $1 WHERE number = '+15550111'`, [daysAgo(31)]);
}

async function counts(t: TestApp) {
  const { rows } = await t.db.query(`
    SELECT (SELECT count(*) FROM call_sessions)::int AS calls,
           (SELECT count(*) FROM stream_exchanges)::int AS exchanges,
           (SELECT count(*) FROM call_events)::int AS events,
           (SELECT array_agg(number ORDER BY number) FROM phone_numbers) AS numbers`);
  return rows[0];
}

describe('Retention in delete mode', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { API_KEY, RETENTION_DAYS: '30', RETENTION_MODE: 'delete', RETENTION_BATCH_SIZE: '2' },
    });
    await seedOldAndNew(t);
  });
  afterAll(() => t.close());

  it('counts without changing anything on a dry run', async () => {
    const before = await counts(t);
    const report = await t.app.get(RetentionService).run({ dryRun: true });

    expect(report).toMatchObject({
      dryRun: true,
      mode: 'delete',
      days: 30,
      calls: 3,
      exchanges: 6,
      events: 1,
      strayEvents: 1,
      phoneNumbers: 1,
    });
    expect(await counts(t)).toEqual(before);
  });

  it('deletes the old calls in batches, with their exchanges and events, stray events and unused numbers', async () => {
    const report = await t.app.get(RetentionService).run();

    expect(report).toMatchObject({
      dryRun: false,
      calls: 3,
      exchanges: 6,
      events: 1,
      strayEvents: 1,
      phoneNumbers: 1,
      batches: 2,
    });
    expect(await counts(t)).toEqual({ calls: 1, exchanges: 2, events: 1, numbers: ['+15550100', '+15550199'] });
    const res = await request(t.app.getHttpServer()).get('/api/calls').set('x-api-key', API_KEY).expect(200);
    expect(res.body.items.map((c: { session_id: string }) => c.session_id)).toEqual(['new-1']);
  });

  it('has nothing left to do on the next run', async () => {
    expect(await t.app.get(RetentionService).run()).toMatchObject({
      calls: 0,
      batches: 0,
      strayEvents: 0,
      phoneNumbers: 0,
    });
  });
});

describe('Retention in redact mode', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { API_KEY, RETENTION_DAYS: '30', RETENTION_MODE: 'redact', RETENTION_BATCH_SIZE: '2' },
    });
    await seedOldAndNew(t);
  });
  afterAll(() => t.close());

  it('replaces numbers, metadata and texts of old calls, keeping counts and timings', async () => {
    const toolCall = {
      id: 'call_1',
      name: 'book_slot',
      arguments: { name: 'Ada Lovelace', phone: '+15550100' },
      status: 'ok',
      result: { booked: true },
      round: 1,
      started_at: '2025-01-01T10:00:00.000Z',
      duration_ms: 12,
    };
    await t.db.query(
      `UPDATE stream_exchanges SET tool_calls = $1::jsonb WHERE kind = 'reply'
         AND call_session_id = (SELECT id FROM call_sessions WHERE session_id = 'old-1')`,
      [JSON.stringify([toolCall])],
    );
    await t.db.query(
      `INSERT INTO call_analyses (call_session_id, request_id, status, summary, outcome, sentiment, custom_fields)
       SELECT id, gen_random_uuid(), 'completed', 'Ada Lovelace booked a slot.', 'resolved', 'positive', '{"name": "Ada"}'
       FROM call_sessions WHERE session_id = 'old-1'`,
    );
    const before = await request(t.app.getHttpServer()).get('/api/calls/old-1').set('x-api-key', API_KEY).expect(200);
    expect(before.body.exchanges[1].tool_calls).toEqual([toolCall]);
    const report = await t.app.get(RetentionService).run();

    expect(report).toMatchObject({
      mode: 'redact',
      calls: 3,
      exchanges: 6,
      events: 1,
      strayEvents: 1,
      phoneNumbers: 1,
      batches: 2,
    });
    const after = await request(t.app.getHttpServer()).get('/api/calls/old-1').set('x-api-key', API_KEY).expect(200);
    expect(after.body).toMatchObject({
      session_id: 'old-1',
      from_number: null,
      to_number: null,
      metadata: null,
      summary: '[redacted]',
      redacted_at: expect.any(String),
      turn_count: before.body.turn_count,
      duration_ms: before.body.duration_ms,
      started_at: before.body.started_at,
    });
    const [greeting, reply] = after.body.exchanges;
    expect(greeting.response_text).toBe('[redacted]');
    expect(reply).toMatchObject({
      transcript: [
        { role: 'assistant', content: '[redacted]' },
        { role: 'user', content: '[redacted]' },
      ],
      response_text: '[redacted]',
      time_to_first_token_ms: before.body.exchanges[1].time_to_first_token_ms,
      total_ms: before.body.exchanges[1].total_ms,
      total_tokens: before.body.exchanges[1].total_tokens,
    });
    expect(reply.tool_calls).toEqual([
      {
        id: 'call_1',
        name: 'book_slot',
        arguments: '[redacted]',
        status: 'ok',
        round: 1,
        started_at: toolCall.started_at,
        duration_ms: 12,
      },
    ]);
    expect(after.body.events[0]).toMatchObject({ type: 'partial_transcript', payload: { redacted: true } });
    // The analysis retold the call: its summary and fields go, its outcome and sentiment stay.
    expect(after.body.analysis).toMatchObject({
      status: 'completed',
      summary: '[redacted]',
      custom_fields: null,
      outcome: 'resolved',
      sentiment: 'positive',
    });

    const recent = await request(t.app.getHttpServer()).get('/api/calls/new-1').set('x-api-key', API_KEY).expect(200);
    expect(recent.body).toMatchObject({
      from_number: '+15550100',
      redacted_at: null,
      summary: 'What are your opening hours?',
    });
    expect(await counts(t)).toMatchObject({ calls: 4, exchanges: 8, events: 2, numbers: ['+15550100', '+15550199'] });
  });

  it('no longer finds redacted calls by number or text, and does not redact twice', async () => {
    const byText = await request(t.app.getHttpServer())
      .get('/api/calls?q=opening')
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(byText.body.items.map((c: { session_id: string }) => c.session_id)).toEqual(['new-1']);
    expect(await t.app.get(RetentionService).run()).toMatchObject({ calls: 0, batches: 0 });
  });
});

describe('Retention without RETENTION_DAYS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await seedCall(t.db, simpleCall('ancient', daysAgo(3650)));
  });
  afterAll(() => t.close());

  it('keeps every call', async () => {
    expect(await t.app.get(RetentionService).run()).toBeNull();
    expect((await counts(t)).calls).toBe(1);
  });

  it('npm run retention -- --dry-run prints what it would do and changes nothing', async () => {
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'retention', '--', '--dry-run', '--days', '365'],
      {
        cwd: `${__dirname}/../../..`,
        env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, RETENTION_DAYS: '', NODE_OPTIONS: '' },
        timeout: 60_000,
      },
    );
    expect(stdout).toMatch(
      /Retention dry run, calls started before \S+ \(RETENTION_DAYS=365, RETENTION_MODE=delete\): would have deleted 1 call\(s\) with 2 exchange\(s\)/,
    );
    expect((await counts(t)).calls).toBe(1);
  });
});
