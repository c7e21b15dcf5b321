import { connect, Socket } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { API_KEY, seedBulkCalls } from '../../support/history-fixtures';

const CALLS = 50_000;
const METADATA_BYTES = 1_000;
const STALLED_CLIENTS = 10;
const MAX_EXPORTS = 2;
const STALL_TIMEOUT_MS = 1_500;
const STATEMENT_TIMEOUT_MS = 1_000;

interface Pool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** An HTTP client that sends its request and then reads nothing but the status line. */
class StalledClient {
  static readonly opened: StalledClient[] = [];
  private head = '';
  private readingHead = false;
  bytes = 0;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      if (this.head.length < 64) this.head += chunk.toString('latin1', 0, 64);
      this.bytes += chunk.length;
      if (this.readingHead && this.head.includes('\r\n')) {
        this.readingHead = false;
        socket.pause();
      }
    });
    socket.on('close', () => (this.closed = true));
    // The server cuts a stalled export with unread data in flight: a reset is expected.
    socket.on('error', () => undefined);
  }

  static open(port: number, path: string): Promise<StalledClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const client = new StalledClient(socket);
        StalledClient.opened.push(client);
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${API_KEY}\r\n\r\n`);
        resolve(client);
      });
      socket.once('error', reject);
    });
  }

  /** Reads up to the status line, then stops reading again. */
  async status(): Promise<number> {
    this.readingHead = true;
    this.socket.resume();
    await eventually(() => expect(this.head).toContain('\r\n'));
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.head)![1]);
  }

  /** Reads whatever the server sent until it closed the connection. */
  async readToEnd(): Promise<number> {
    this.socket.resume();
    await eventually(() => expect(this.closed).toBe(true));
    return this.bytes;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function poolOf(t: TestApp): Pool {
  return (t.app.get(DataSource).driver as unknown as { master: Pool }).master;
}

describe('Exports whose client stops reading', () => {
  let t: TestApp;
  let port: number;
  let pool: Pool;
  const api = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        API_KEY,
        GREETING: 'Hello.',
        EXPORT_MAX_CONCURRENT: String(MAX_EXPORTS),
        EXPORT_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS),
      },
    });
    port = t.app.getHttpServer().address().port;
    pool = poolOf(t);
    // ~60 MB of NDJSON: far more than the socket buffers of a client that reads nothing.
    await seedBulkCalls(t.db, 'stall', CALLS, METADATA_BYTES);
    await t.db.query('ANALYZE call_sessions');
  }, 120_000);
  afterAll(async () => {
    // A server that never cut them would otherwise keep close() waiting forever.
    for (const client of StalledClient.opened) client.destroy();
    await t.close();
  });

  it('run at most EXPORT_MAX_CONCURRENT at once, leave the API, calls and readiness working, and are cut when stalled', async () => {
    const clients = await Promise.all(
      Array.from({ length: STALLED_CLIENTS }, () => StalledClient.open(port, '/api/calls/export')),
    );
    const statuses = await Promise.all(clients.map((c) => c.status()));
    expect(statuses.filter((s) => s === 200)).toHaveLength(MAX_EXPORTS);
    expect(statuses.filter((s) => s === 429)).toHaveLength(STALLED_CLIENTS - MAX_EXPORTS);
    const stalled = clients.filter((_, i) => statuses[i] === 200);

    // While both hold a connection, one more export is refused with a clear error...
    const refused = await api().get('/api/calls/export').set('x-api-key', API_KEY).expect(429);
    expect(refused.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `${MAX_EXPORTS} export(s) already running (EXPORT_MAX_CONCURRENT): try again when one has finished`,
    });
    expect(pool.totalCount - pool.idleCount).toBeGreaterThanOrEqual(MAX_EXPORTS);
    expect(stalled.some((c) => c.closed)).toBe(false);

    // ...and everything else still works.
    const list = await api().get('/api/calls?limit=1').set('x-api-key', API_KEY).expect(200);
    expect(list.body.items[0].session_id).toBe(`stall-${CALLS}`);
    await api().get('/health/ready').expect(200);
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'call-during-stalled-exports' });
    expect(await client.waitForEnd(0)).toBe('Hello.');
    await client.close();
    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT status FROM call_sessions WHERE session_id = 'call-during-stalled-exports'`,
      );
      expect(rows).toEqual([{ status: 'ended' }]);
    });

    // The stalled exports are cut: cursors closed, connections back in the pool, both slots free...
    await eventually(() => expect(pool.idleCount).toBe(pool.totalCount), STALL_TIMEOUT_MS * 5);
    const emptyExport = () => api().get('/api/calls/export?agent_id=nobody').set('x-api-key', API_KEY);
    const probes = await Promise.all(Array.from({ length: MAX_EXPORTS }, emptyExport));
    expect(probes.map((p) => p.status)).toEqual(Array(MAX_EXPORTS).fill(200));
    // ...and their responses closed short of the whole export.
    for (const stalledClient of stalled) expect(await stalledClient.readToEnd()).toBeLessThan(CALLS * METADATA_BYTES);

    // A client that reads gets the whole export.
    const res = await api().get('/api/calls/export?agent_id=agent-3').set('x-api-key', API_KEY).expect(200);
    expect(res.text.trim().split('\n')).toHaveLength(CALLS / 5);
  }, 60_000);

  it('gives the slot back when an export fails before it starts', async () => {
    for (let i = 0; i < MAX_EXPORTS + 1; i++) {
      await api().get('/api/calls/export?cursor=x').set('x-api-key', API_KEY).expect(400);
    }
    await api().get('/api/calls/export?agent_id=nobody').set('x-api-key', API_KEY).expect(200, '');
  });

  it('keeps an export whose client pauses, as long as no pause lasts EXPORT_STALL_TIMEOUT_MS', async () => {
    // Two pauses that add up to more than the stall timeout.
    const { lines, bytes } = await readSlowly(port, '/api/calls/export?format=csv', [1, 20], STALL_TIMEOUT_MS * 0.6);

    const { rows } = await t.db.query('SELECT count(*)::int AS calls FROM call_sessions');
    expect(lines).toBe(rows[0].calls + 1);
    expect(bytes).toBeGreaterThan(CALLS * METADATA_BYTES);
  }, 60_000);
});

describe('History queries that run past HISTORY_STATEMENT_TIMEOUT_MS', () => {
  let t: TestApp;
  let port: number;
  const api = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    // The calls of the suite above, kept.
    t = await startTestApp({
      env: { API_KEY, HISTORY_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) },
      keepData: true,
    });
    port = t.app.getHttpServer().address().port;
  });
  afterAll(() => t.close());

  it('are cancelled and answered 503 with a clear error, their connection returned', async () => {
    // A session holding an exclusive lock keeps every read of call_sessions waiting.
    const locker = await t.db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE call_sessions IN ACCESS EXCLUSIVE MODE');
      const paths = [
        '/api/calls',
        '/api/calls/stall-1',
        '/api/calls/stall-1/transcript',
        '/api/calls/export',
        '/api/stats?from=2025-06-01T00:00:00Z&to=2025-06-02T00:00:00Z',
      ];
      const responses = await Promise.all(paths.map((path) => api().get(path).set('x-api-key', API_KEY)));
      for (const res of responses) {
        expect(res.status).toBe(503);
        expect(res.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: `the query took longer than ${STATEMENT_TIMEOUT_MS} ms (HISTORY_STATEMENT_TIMEOUT_MS) and was cancelled: narrow the time range or filters, or try again`,
        });
      }
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    const pool = poolOf(t);
    await eventually(() => expect(pool.idleCount).toBe(pool.totalCount));
    await api().get('/api/calls?limit=1').set('x-api-key', API_KEY).expect(200);
  });

  it('leave an export alone while its cursor waits on the client for longer than the timeout', async () => {
    const { lines } = await readSlowly(port, '/api/calls/export?agent_id=agent-3', [1], STATEMENT_TIMEOUT_MS * 1.5);

    expect(lines).toBe(CALLS / 5);
  }, 60_000);
});

/** Reads a whole response, pausing for `pauseMs` once past each of `pauseAtMb` megabytes. */
async function readSlowly(
  port: number,
  path: string,
  pauseAtMb: number[],
  pauseMs: number,
): Promise<{ lines: number; bytes: number }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'x-api-key': API_KEY } });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const pauseAt = pauseAtMb.map((mb) => mb * 1024 * 1024);
  let bytes = 0;
  let lines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    for (let at = value.indexOf(10); at !== -1; at = value.indexOf(10, at + 1)) lines++;
    if (pauseAt.length && bytes > pauseAt[0]) {
      pauseAt.shift();
      // A slow client, on purpose.
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
  expect(pauseAt).toEqual([]);
  return { lines, bytes };
}
