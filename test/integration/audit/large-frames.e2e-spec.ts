import { randomBytes } from 'node:crypto';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { API_KEY, expectStored, lockTable, ordinaryCalls, readiness } from '../../support/audit-test-kit';

const MiB = 1024 * 1024;
const FRAMES = 12;
const FRAME_TEXT_CHARS = 1_000_000;

/**
 * Frames of 1 MB (within WS_MAX_PAYLOAD) used to pile into one statement past Postgres'
 * 256 MB jsonb limit, after which nothing was stored, and the backlog bound counted rows,
 * not bytes. The same at a tenth of the scale: statements bounded by AUDIT_BATCH_BYTES,
 * the backlog by AUDIT_MAX_BACKLOG_BYTES.
 */
describe('Frames of 1 MB', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { API_KEY, GREETING: 'Hi.', AUDIT_BATCH_BYTES: String(2 * MiB), AUDIT_MAX_BACKLOG_BYTES: String(8 * MiB) },
    });
  });
  afterAll(() => t.close());

  it('are written in statements of at most AUDIT_BATCH_BYTES, past the byte bound new calls wait, and calls after them are stored', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'big-frames' });
    await client.waitForEnd(0);
    await eventually(() => expect(t.audit.backlog).toBe(0));

    // Hold the writes back so the whole burst is queued at once (the backlog of a slow database).
    const lock = await lockTable(t.db, 'call_events');
    try {
      for (let i = 0; i < FRAMES; i++) {
        client.send({
          type: 'partial_transcript',
          data: { transcript: randomBytes(FRAME_TEXT_CHARS / 2).toString('hex'), is_final: false },
        });
      }
      await eventually(() => expect(t.audit.backlogBytes).toBeGreaterThan(FRAMES * FRAME_TEXT_CHARS), 10_000);

      // Far fewer rows than AUDIT_MAX_BACKLOG, but more bytes than AUDIT_MAX_BACKLOG_BYTES.
      expect(t.audit.backlog).toBeLessThan(t.config.audit.maxBacklog);
      expect(t.audit.overBound).toBe(true);
      await expect(MillisPlatformClient.connect(t.wsUrl)).rejects.toThrow('HTTP 503');
      const ready = await readiness(t);
      expect(ready.status).toBe(503);
      expect(ready.audit).toMatchObject({ status: 'down', stalled: false, maxBacklogBytes: 8 * MiB });
      expect(ready.audit.backlogBytes).toBeGreaterThan(8 * MiB);
    } finally {
      await lock.release();
    }

    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT ev.xmin::text AS tx, count(*)::int AS frames, sum(octet_length(ev.payload->>'transcript'))::int AS bytes
         FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id
         WHERE s.session_id = 'big-frames' AND ev.type = 'partial_transcript' GROUP BY 1`,
      );
      expect(rows.reduce((sum: number, r: { frames: number }) => sum + r.frames, 0)).toBe(FRAMES);
      // Rows written by one statement share its transaction id.
      for (const statement of rows) expect(statement.bytes).toBeLessThanOrEqual(2 * MiB);
    }, 10_000);
    await client.close();

    await eventually(async () => expect((await readiness(t)).status).toBe(200));
    const ordinary = await ordinaryCalls(t, 'after-big-frames');
    await expectStored(t, ordinary);
    expect(t.audit.getStats()).toMatchObject({ deadLettered: 0, failedFlushes: 0 });
  });
});
