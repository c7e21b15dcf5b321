import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CallRecordWriterRepository } from '../../../src/call-records/call-record-writer.repository';
import type { SessionRecord } from '../../../src/call-records/call-record.types';
import { InstanceLivenessRepository } from '../../../src/call-records/instance-liveness.repository';
import { buildDataSourceOptions } from '../../../src/database/data-source-options';
import { migrateDatabase } from '../../../src/database/migration-runner';
import { LIVENESS_APPLICATION_PREFIX } from '../../../src/instance/service-instance';
import { TEST_DATABASE_URL, testPool, truncateAuditTables } from '../../support/test-database';

const WINDOW_MS = 60_000;

/**
 * The takeover rule on real Postgres: who may close another instance's calls as 'crashed', and
 * how an instance takes its calls back.
 */
describe('The takeover rule (service_instances, pg_stat_activity)', () => {
  let dataSource: DataSource;
  let liveness: InstanceLivenessRepository;
  let writer: CallRecordWriterRepository;
  const db = testPool();
  const watcher = randomUUID();
  let owner: string;

  beforeAll(async () => {
    await migrateDatabase(TEST_DATABASE_URL);
    dataSource = await new DataSource(buildDataSourceOptions(TEST_DATABASE_URL, 2)).initialize();
    liveness = new InstanceLivenessRepository(dataSource);
    writer = new CallRecordWriterRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.end();
  });

  /** An instance last seen `silentMs` ago, with one active call and its reply streaming. */
  async function silentOwnerWithACall(silentMs: number): Promise<void> {
    await truncateAuditTables(db);
    owner = randomUUID();
    await db.query(
      `INSERT INTO service_instances (id, name, started_at, last_seen_at)
       VALUES ($1, 'owner', now() - interval '1 hour', now() - $2 * interval '1 millisecond')`,
      [owner, silentMs],
    );
    await writer.upsertSessions([session('held', 'active', null)], owner);
    await db.query(
      `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, status, requested_at)
       SELECT gen_random_uuid(), id, 1, 'reply', '[]'::jsonb, 'streaming', now() FROM call_sessions WHERE session_id = 'held'`,
    );
  }

  async function state(): Promise<{
    status: string;
    end_reason: string | null;
    exchange: string;
    error: string | null;
  }> {
    const { rows } = await db.query(
      `SELECT s.status, s.end_reason, e.status AS exchange, e.error
         FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id WHERE s.session_id = 'held'`,
    );
    return rows[0];
  }

  const sweep = () => liveness.closeOrphanedSessions(watcher, WINDOW_MS, LIVENESS_APPLICATION_PREFIX);

  it('leaves alone an instance silent for less than the window, however many heartbeats it missed', async () => {
    await silentOwnerWithACall(WINDOW_MS / 2);

    expect(await sweep()).toBe(0);
    expect(await state()).toMatchObject({ status: 'active', exchange: 'streaming' });
  });

  it('leaves alone an instance silent past the window while Postgres still holds its bus connection', async () => {
    await silentOwnerWithACall(WINDOW_MS * 2);
    const connection = new Client({
      connectionString: TEST_DATABASE_URL,
      application_name: `${LIVENESS_APPLICATION_PREFIX}${owner}`,
    });
    await connection.connect();
    try {
      expect(await sweep()).toBe(0);
      expect(await state()).toMatchObject({ status: 'active', exchange: 'streaming' });
    } finally {
      await connection.end();
    }

    // Its connection gone too: now it is dead.
    expect(await sweep()).toBe(1);
    expect(await state()).toEqual({
      status: 'ended',
      end_reason: 'crashed',
      exchange: 'failed',
      error: 'service instance crashed',
    });
  });

  it('lets a returning instance take back its calls still in progress, and only those', async () => {
    await silentOwnerWithACall(WINDOW_MS * 2);
    expect(await sweep()).toBe(1);

    expect(await liveness.reclaimSessions(randomUUID(), ['held'])).toBe(0);
    expect(await liveness.reclaimSessions(owner, ['another-call'])).toBe(0);
    expect(await liveness.reclaimSessions(owner, ['held'])).toBe(1);
    expect(await state()).toEqual({ status: 'active', end_reason: null, exchange: 'streaming', error: null });
    const { rows } = await db.query(`SELECT ended_at FROM call_sessions WHERE session_id = 'held'`);
    expect(rows[0].ended_at).toBeNull();
  });

  it("lets the owner's next write of a session replace a 'crashed' closing with how the call really ended", async () => {
    await silentOwnerWithACall(WINDOW_MS * 2);
    expect(await sweep()).toBe(1);

    await writer.upsertSessions([session('held', 'ended', 'connection_closed')], owner);

    expect(await state()).toMatchObject({ status: 'ended', end_reason: 'connection_closed' });
  });
});

function session(sessionId: string, status: SessionRecord['status'], endReason: SessionRecord['endReason']) {
  const startedAt = new Date(Date.now() - 60_000).toISOString();
  return {
    sessionId,
    agentId: 'desk',
    callSid: null,
    metadata: null,
    fromNumber: null,
    toNumber: null,
    status,
    endReason,
    startedAt,
    endedAt: status === 'ended' ? new Date().toISOString() : null,
    closeCode: status === 'ended' ? 1000 : null,
  } satisfies SessionRecord;
}
