import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { ANALYSED_AGENT, ANALYSIS_API_KEY, placeCall } from '../../integration/call-analysis/analysis-test-kit';
import { eventually } from '../../support/eventually';
import { TEST_DATABASE_URL } from '../../support/test-database';
import { useProcessSuite } from '../support/process-suite';
import { spawnService } from '../support/service-process';

const ROOT = resolve(__dirname, '../../..');

/** `npm run analyze` as an operator runs it, against the service running as a process. */
describe('npm run analyze', () => {
  const suite = useProcessSuite({ firstTokenDelayMs: 5, tokenDelayMs: 2 });
  const since = new Date(Date.now() - 60 * 60 * 1000);

  /** The command as a process of its own; resolves with its exit code and output. */
  function analyze(...args: string[]): Promise<{ code: number | null; output: string }> {
    const { NODE_ENV: _ignored, NODE_OPTIONS: _options, ...inherited } = process.env;
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/call-analysis/analysis.main.ts', ...args],
      {
        cwd: ROOT,
        env: {
          ...inherited,
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          DATABASE_URL: TEST_DATABASE_URL,
          API_KEY: ANALYSIS_API_KEY,
          OPENAI_BASE_URL: suite.fake.baseUrl,
          ANALYSIS_RETRY_DELAY_SECONDS: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const chunks: string[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => chunks.push(d.toString()));
    return new Promise((done) => child.once('exit', (code) => done({ code, output: chunks.join('') })));
  }

  const statuses = async () =>
    (
      await suite.db.query(
        `SELECT s.session_id, a.status FROM call_sessions s LEFT JOIN call_analyses a ON a.call_session_id = s.id
         ORDER BY s.session_id`,
      )
    ).rows;

  beforeAll(async () => {
    suite.service = await spawnService({
      OPENAI_BASE_URL: suite.fake.baseUrl,
      API_KEY: ANALYSIS_API_KEY,
      CALL_EVENTS_POLL_MS: '100',
      ANALYSIS_RETRY_DELAY_SECONDS: '1',
    });
    await suite.db.query('DELETE FROM agent_profiles');
    // Analysis off for this agent: the calls below are "older calls", never analysed.
    await request(suite.service.httpUrl)
      .put('/api/agents/cli-desk')
      .set('x-api-key', ANALYSIS_API_KEY)
      .send({ analysis: { ...ANALYSED_AGENT.analysis, enabled: false } })
      .expect(201);
    for (const id of ['cli-a', 'cli-b', 'cli-old'])
      await placeCall(suite.service.wsUrl, id, 'cli-desk', [`My appointment, ${id}`]);
    await placeCall(suite.service.wsUrl, 'cli-other-agent', 'cli-other', ['Hello']);
    await eventually(async () => {
      const { rows } = await suite.db.query(
        `SELECT count(*)::int AS n FROM call_sessions WHERE ended_dispatched_at IS NOT NULL`,
      );
      expect(rows[0].n).toBe(4);
    }, 15_000);
    await suite.db.query(
      `UPDATE call_sessions SET started_at = started_at - interval '2 days' WHERE session_id = 'cli-old'`,
    );
  }, 120_000);

  it('queues the calls since a date, of one agent, and shows progress until they are done', async () => {
    expect(await statuses()).toEqual([
      { session_id: 'cli-a', status: null },
      { session_id: 'cli-b', status: null },
      { session_id: 'cli-old', status: null },
      { session_id: 'cli-other-agent', status: null },
    ]);

    const run = await analyze('--since', since.toISOString(), '--agent', 'cli-desk');
    expect(run.output).toContain('Queued 2 call(s) for analysis.');
    expect(run.output).toMatch(/2\/2 done: 2 completed, 0 failed; 0 waiting/);
    expect(run.code).toBe(0);
    expect(await statuses()).toEqual([
      { session_id: 'cli-a', status: 'completed' },
      { session_id: 'cli-b', status: 'completed' },
      { session_id: 'cli-old', status: null },
      { session_id: 'cli-other-agent', status: null },
    ]);
    const { rows } = await suite.db.query(
      `SELECT a.custom_fields FROM call_analyses a JOIN call_sessions s ON s.id = a.call_session_id WHERE s.session_id = 'cli-a'`,
    );
    expect(rows[0].custom_fields).toMatchObject({ appointment_booked: true });
  }, 60_000);

  it('leaves analysed calls alone unless told to --redo', async () => {
    const again = await analyze('--since', since.toISOString(), '--agent', 'cli-desk');
    expect(again.output).toContain('Queued 0 call(s) for analysis.');
    expect(again.code).toBe(0);

    const redo = await analyze('--since', since.toISOString(), '--redo');
    expect(redo.output).toContain('Queued 3 call(s) for analysis.');
    expect(redo.output).toMatch(/3\/3 done: 3 completed, 0 failed; 0 waiting/);
    expect(redo.code).toBe(0);
    expect((await statuses()).map((r) => r.status)).toEqual(['completed', 'completed', null, 'completed']);
  }, 60_000);

  it('explains a bad --since', async () => {
    const run = await analyze('--since', 'last week');
    expect(run.code).toBe(2);
    expect(run.output).toContain('--since must be an ISO 8601 date');
  }, 30_000);
});
