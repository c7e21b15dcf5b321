import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import {
  API_KEY,
  deadLetters,
  distinctWords,
  expectStored,
  incompressible,
  lockTable,
  ordinaryCalls,
  readiness,
} from '../../support/audit-test-kit';

/**
 * One frame used to stop the audit for good: Postgres refused its batch (SQLSTATE 54000)
 * and the writer retried that batch forever, so no call made afterwards was stored.
 */
describe('A frame past a Postgres limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY, GREETING: 'Hi.' } });
  });
  afterAll(() => t.close());

  async function poisonCall(sessionId: string, fields: Record<string, unknown>): Promise<void> {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: sessionId, ...fields });
    await client.waitForEnd(0);
    client.streamRequest(1, [{ role: 'user', content: 'anything' }]);
    await client.waitForEnd(1);
    await client.close();
  }

  it.each([
    ['session_id', () => ({ session_id: incompressible(7_000) })],
    ['agent_id', () => ({ session_id: 'poison-agent', agent_id: incompressible(7_000) })],
    ['voip.from', () => ({ session_id: 'poison-from', voip: { from: incompressible(7_000), to: '+15550000' } })],
  ])('a start_call whose %s is 7 KB is stored whole, and 20 calls made after it are stored', async (field, build) => {
    const fields = build();
    const sessionId = fields.session_id;
    await poisonCall(sessionId, fields);
    const ordinary = await ordinaryCalls(t, `after-${field}`);

    await expectStored(t, ordinary);
    const { rows } = await t.db.query(
      `SELECT length(s.session_id) AS session_id, length(s.agent_id) AS agent_id, length(p.number) AS from_number,
              (SELECT count(*)::int FROM stream_exchanges e WHERE e.call_session_id = s.id AND e.status = 'completed') AS exchanges
       FROM call_sessions s LEFT JOIN phone_numbers p ON p.id = s.from_number_id
       WHERE s.session_id = $1`,
      [sessionId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0][field === 'voip.from' ? 'from_number' : field]).toBe(7_000);
    expect(rows[0].exchanges).toBe(2);
    // Found by value through the API (the hash index), whatever its length.
    const found = await request(t.app.getHttpServer())
      .get(`/api/calls/${encodeURIComponent(sessionId)}`)
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(found.body.session_id).toBe(sessionId);
    expect(t.audit.getStats()).toMatchObject({ deadLettered: 0, backlog: 0 });
    expect((await readiness(t)).status).toBe(200);
  });

  it('a transcript of 900 KB of distinct words is stored and searchable, and 20 calls made after it are stored', async () => {
    const utterance = distinctWords(900_000);
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'poison-transcript' });
    await client.waitForEnd(0);
    // The fake LLM would echo all 27,000 words one token at a time.
    t.fakeLlm.enqueue({ kind: 'text', text: 'Noted.' });
    client.streamRequest(1, [{ role: 'user', content: utterance }]);
    await client.waitForEnd(1, 15_000);
    await client.close();
    const ordinary = await ordinaryCalls(t, 'after-transcript');

    await expectStored(t, ordinary);
    const { rows } = await t.db.query(
      `SELECT length(last_user_utterance(e.transcript)) AS chars FROM stream_exchanges e
       JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id = 'poison-transcript' AND e.kind = 'reply'`,
    );
    expect(rows).toEqual([{ chars: utterance.length }]);
    // Search covers the start of a long utterance.
    const firstWord = utterance.slice(0, 32);
    const search = await request(t.app.getHttpServer())
      .get(`/api/calls?q=${firstWord}`)
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(search.body.items.map((c: { session_id: string }) => c.session_id)).toEqual(['poison-transcript']);
    expect(t.audit.getStats()).toMatchObject({ deadLettered: 0, backlog: 0 });
    expect((await readiness(t)).status).toBe(200);
  });
});

describe('A row Postgres refuses', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY, GREETING: 'Hi.' } });
    // Stands for any deterministic refusal (here 23514); the writer must not take it for an outage.
    await t.db.query(
      `ALTER TABLE call_sessions ADD CONSTRAINT ck_test_refused_agent CHECK (agent_id <> 'refused-agent') NOT VALID`,
    );
  });
  afterAll(async () => {
    await t.db.query(`ALTER TABLE call_sessions DROP CONSTRAINT ck_test_refused_agent`);
    await t.close();
  });

  it('is dead-lettered alone with its SQLSTATE and message, while calls in the same batches are stored', async () => {
    const [ordinary] = await Promise.all([
      ordinaryCalls(t, 'beside-refused'),
      (async () => {
        const client = await MillisPlatformClient.connect(t.wsUrl);
        client.startCall({ session_id: 'refused-call', agent_id: 'refused-agent' });
        await client.waitForEnd(0);
        await client.close();
      })(),
    ]);

    await expectStored(t, ordinary);
    await eventually(() => expect(t.audit.getStats().backlog).toBe(0));
    const letters = await deadLetters(t);
    const sessions = letters.flatMap((l) =>
      l.batch.sessions.map((s) => ({ id: s.sessionId, code: l.code, reason: l.reason })),
    );
    // The session row twice (started, then ended): each refused alone, with Postgres' own words.
    expect(new Set(sessions.map((s) => s.id))).toEqual(new Set(['refused-call']));
    for (const s of sessions) {
      expect(s.code).toBe('23514');
      expect(s.reason).toContain('ck_test_refused_agent');
    }
    // Its greeting cannot be stored without its session: dead-lettered too, with that reason.
    const exchanges = letters.flatMap((l) => l.batch.exchanges.map((e) => ({ session: e.sessionId, code: l.code })));
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.every((e) => e.session === 'refused-call' && e.code === 'missing_session')).toBe(true);
    expect(letters.every((l) => JSON.stringify(l.batch).includes('refused-call'))).toBe(true);
    expect(t.audit.getStats().failedFlushes).toBe(0);
    expect((await readiness(t)).status).toBe(200);
  });
});

describe('A refused row while the dead-letter file cannot be written', () => {
  let t: TestApp;
  let blocker: string;

  beforeAll(async () => {
    // A file where the dead-letter directory should be: appending fails until it is removed.
    blocker = join(mkdtempSync(join(tmpdir(), 'audit-dl-')), 'dead-letters');
    writeFileSync(blocker, '');
    t = await startTestApp({
      env: {
        API_KEY,
        GREETING: 'Hi.',
        AUDIT_DEAD_LETTER_FILE: join(blocker, 'dead-letter.ndjson'),
        AUDIT_STALL_MS: '300',
      },
    });
    await t.db.query(
      `ALTER TABLE call_sessions ADD CONSTRAINT ck_test_refused_agent CHECK (agent_id <> 'refused-agent') NOT VALID`,
    );
  });
  afterAll(async () => {
    await t.db.query(`ALTER TABLE call_sessions DROP CONSTRAINT ck_test_refused_agent`);
    await t.close();
  });

  it('is kept in memory, reported by readiness, and appended once the file can be written; other calls are stored meanwhile', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'refused-unfiled', agent_id: 'refused-agent' });
    await client.waitForEnd(0);
    await client.close();
    await expectStored(t, await ordinaryCalls(t, 'beside-unfiled', 5));

    await eventually(async () => {
      expect(t.audit.getStats()).toMatchObject({ deadLettered: 0, stalled: true });
      expect(t.audit.backlog).toBeGreaterThan(0);
      expect((await readiness(t)).status).toBe(503);
    });

    rmSync(blocker);

    await eventually(async () => {
      expect(t.audit.getStats()).toMatchObject({ backlog: 0, stalled: false });
      expect((await readiness(t)).status).toBe(200);
    });
    const letters = await deadLetters(t);
    expect(letters.flatMap((l) => l.batch.sessions.map((s) => s.sessionId))).toContain('refused-unfiled');
    expect(t.audit.getStats().deadLettered).toBe(letters.reduce((n, l) => n + Object.values(l.batch).flat().length, 0));
  });
});

describe('Readiness when the audit makes no progress', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { GREETING: 'Hi.', AUDIT_STALL_MS: '300' } });
  });
  afterAll(() => t.close());

  it('fails while queued rows have not moved for AUDIT_STALL_MS, and recovers once they are written', async () => {
    expect((await readiness(t)).status).toBe(200);
    const lock = await lockTable(t.db, 'call_events');
    try {
      const client = await MillisPlatformClient.connect(t.wsUrl);
      client.startCall({ session_id: 'stalled-call' });
      await client.waitForEnd(0);
      client.send({ type: 'partial_transcript', data: { transcript: 'hello', is_final: true } });

      await eventually(async () => {
        const ready = await readiness(t);
        expect(ready.status).toBe(503);
        expect(ready.audit).toMatchObject({ status: 'down', stalled: true });
      });
      await client.close();
    } finally {
      await lock.release();
    }

    await eventually(async () => {
      expect((await readiness(t)).status).toBe(200);
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id WHERE s.session_id = 'stalled-call'`,
      );
      expect(rows[0].n).toBe(1);
    });
    expect(t.audit.getStats()).toMatchObject({ stalled: false, deadLettered: 0 });
  });
});
