import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Pool, PoolClient } from 'pg';
import request from 'supertest';
import { MillisPlatformClient } from './millis-platform-client';
import { eventually, TestApp } from './test-app';

export const API_KEY = 'audit-test-key-0123456789';

/** Random hex: incompressible, so Postgres cannot squeeze it under the btree limit (about 2.7 KB per entry). */
export function incompressible(chars: number): string {
  return randomBytes(Math.ceil(chars / 2))
    .toString('hex')
    .slice(0, chars);
}

/** About `bytes` of distinct 32-character words: its tsvector is larger than Postgres' 1 MB limit. */
export function distinctWords(bytes: number): string {
  return Array.from({ length: Math.ceil(bytes / 33) }, () => randomBytes(16).toString('hex')).join(' ');
}

/** `count` calls in parallel, each a greeting and one turn: 2 exchanges per call. */
export async function ordinaryCalls(
  t: TestApp,
  prefix: string,
  count = 20,
  agentId = 'agent-ordinary',
): Promise<string[]> {
  const sessionIds = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await Promise.all(
    sessionIds.map(async (sessionId, i) => {
      const client = await MillisPlatformClient.connect(t.wsUrl);
      client.startCall({
        session_id: sessionId,
        agent_id: agentId,
        voip: { from: `+1555777${String(i).padStart(4, '0')}`, to: '+15550000' },
      });
      await client.waitForEnd(0);
      client.streamRequest(1, [{ role: 'user', content: `question ${i}` }]);
      await client.waitForEnd(1);
      await client.close();
    }),
  );
  return sessionIds;
}

/** Every call ended and stored with both its exchanges, and listed by the history API. */
export async function expectStored(
  t: TestApp,
  sessionIds: string[],
  agentId = 'agent-ordinary',
  timeoutMs = 5_000,
): Promise<void> {
  await eventually(
    async () => {
      const { rows } = await t.db.query(
        `SELECT s.session_id, s.status, count(e.id)::int AS exchanges
         FROM call_sessions s LEFT JOIN stream_exchanges e ON e.call_session_id = s.id AND e.status = 'completed'
         WHERE s.session_id = ANY($1) GROUP BY s.session_id, s.status ORDER BY s.session_id`,
        [sessionIds],
      );
      expect(rows).toEqual([...sessionIds].sort().map((session_id) => ({ session_id, status: 'ended', exchanges: 2 })));
    },
    timeoutMs,
    50,
  );
  const listed = await request(t.app.getHttpServer())
    .get(`/api/calls?agent_id=${agentId}&limit=200`)
    .set('x-api-key', API_KEY)
    .expect(200);
  const ids = (listed.body.items as Array<{ session_id: string }>).map((c) => c.session_id);
  expect(ids).toEqual(expect.arrayContaining(sessionIds));
}

export async function readiness(t: TestApp): Promise<{ status: number; audit: Record<string, unknown> }> {
  const res = await request(t.app.getHttpServer()).get('/health/ready');
  const audit = (res.body.details ?? res.body.info ?? res.body.error ?? {}).audit ?? {};
  return { status: res.status, audit };
}

export interface DeadLetterLine {
  reason: string;
  code: string | null;
  batch: Record<'phones' | 'sessions' | 'exchanges' | 'events', Array<Record<string, unknown>>>;
}

export async function deadLetters(t: TestApp): Promise<DeadLetterLine[]> {
  const text = await readFile(t.config.audit.deadLetterFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DeadLetterLine);
}

/** Holds an ACCESS EXCLUSIVE lock on `table` until released: the audit's writes to it wait, without any error. */
export async function lockTable(db: Pool, table: string): Promise<{ release(): Promise<void> }> {
  const client: PoolClient = await db.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await client.query('COMMIT');
      client.release();
    },
  };
}
