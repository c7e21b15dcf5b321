import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { CallFilters, listCallsQuery, PHONE_NUMBER_IDS_QUERY } from '../../src/call-records/call-list.query';

/**
 * `npm run explain-check`: fills a scratch database (millis_explain, dropped afterwards)
 * with 100k calls and 1M exchanges, then fails if the list and phone queries scan
 * call_sessions or stream_exchanges sequentially (or phone_numbers, for the number lookup).
 * Plans of the other filters are printed for information: a broad filter (a word in
 * thousands of calls) is rightly answered with a scan. Needs a real Postgres:
 * DATABASE_URL (any database on the server; default postgres://postgres@127.0.0.1:5432/postgres).
 */
const SESSIONS = 100_000;
const EXCHANGES_PER_SESSION = 10;
const NUMBERS = 20_000;
const SCRATCH_DB = 'millis_explain';
const LIST_TABLES = ['call_sessions', 'stream_exchanges'];

/** The row the queries below are aimed at: a call some way down the list, and its phone number. */
interface SampleCall {
  agent_id: string;
  number: string;
  phone_id: string;
  id: string;
  rare_word: number;
  cursor_started_at: string;
}

/** One `EXPLAIN (ANALYZE, FORMAT JSON)` result row. */
type ExplainRow = { 'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }] };

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

async function main(): Promise<number> {
  const serverUrl = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
  const admin = new Client({ connectionString: serverUrl.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${SCRATCH_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${SCRATCH_DB}`);
  const scratchUrl = new URL(serverUrl);
  scratchUrl.pathname = `/${SCRATCH_DB}`;
  const dataSource = await new DataSource({
    ...buildDataSourceOptions(scratchUrl.toString(), 2),
    logging: false,
  }).initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const started = Date.now();
    await fill(dataSource);
    console.log(
      `Filled ${SESSIONS} calls, ${SESSIONS * EXCHANGES_PER_SESSION} exchanges, ${NUMBERS} numbers in ${Date.now() - started} ms`,
    );
    return await checkPlans(dataSource);
  } finally {
    await dataSource.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${SCRATCH_DB} WITH (FORCE)`);
    await admin.end();
  }
}

async function fill(db: DataSource): Promise<void> {
  await db.query(
    `INSERT INTO phone_numbers (number, first_seen_at, last_seen_at)
     SELECT '+1555' || lpad(g::text, 7, '0'), now() - interval '90 days', now() FROM generate_series(1, $1::int) g`,
    [NUMBERS],
  );
  await db.query(
    `WITH numbers AS (SELECT array_agg(id ORDER BY number) AS ids FROM phone_numbers)
     INSERT INTO call_sessions (session_id, agent_id, metadata, from_number_id, to_number_id, status, end_reason, started_at, ended_at)
     SELECT 'sess-' || g, 'agent-' || (g % 20), jsonb_build_object('n', g),
            numbers.ids[1 + (g * 7919) % $2], numbers.ids[1 + g % 50],
            CASE WHEN g % 1000 = 0 THEN 'active' ELSE 'ended' END, 'connection_closed',
            now() - (g * interval '75 seconds'), now() - (g * interval '75 seconds') + interval '2 minutes'
     FROM generate_series(1, $1::int) g, numbers`,
    [SESSIONS, NUMBERS],
  );
  await db.query(
    `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, response_text, status, model,
                                   requested_at, first_token_at, completed_at)
     SELECT gen_random_uuid(), s.id, n, CASE WHEN n = 0 THEN 'greeting' ELSE 'reply' END,
            CASE WHEN n = 0 THEN '[]'::jsonb
                 ELSE jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'question ' || n || ' about order ' || (hashtext(s.session_id) & 65535))) END,
            'answer ' || n || ' word' || (hashtext(s.session_id || n) & 4095),
            CASE WHEN (hashtext(s.session_id) & 255) = 0 AND n = 3 THEN 'failed' ELSE 'completed' END, 'fake-model',
            s.started_at + n * interval '5 seconds', s.started_at + n * interval '5 seconds' + interval '300 ms',
            s.started_at + n * interval '5 seconds' + interval '2 seconds'
     FROM call_sessions s, generate_series(0, $1::int - 1) n`,
    [EXCHANGES_PER_SESSION],
  );
  await db.query('ANALYZE');
}

async function checkPlans(db: DataSource): Promise<number> {
  const [sample] = await db.query<SampleCall[]>(
    `SELECT s.agent_id, p.number, p.id AS phone_id, s.started_at, s.id, hashtext(s.session_id) & 65535 AS rare_word,
            to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_started_at
     FROM call_sessions s JOIN phone_numbers p ON p.id = s.from_number_id ORDER BY s.started_at DESC OFFSET 500 LIMIT 1`,
  );
  const cursor = { startedAt: sample.cursor_started_at, id: sample.id };
  const phoneIds = [sample.phone_id];
  const dayAgo = new Date(Date.now() - 24 * 3_600_000);
  // [label, sql, params, tables that must not be scanned sequentially (empty: information only)]
  const cases: Array<[string, string, unknown[], string[]]> = [
    ['phone number lookup', PHONE_NUMBER_IDS_QUERY, [sample.number], ['phone_numbers']],
    ...(
      [
        ['list: first page', {}, undefined, LIST_TABLES],
        ['list: next page', {}, cursor, LIST_TABLES],
        ['list: time range', { from: dayAgo, to: new Date() }, undefined, LIST_TABLES],
        ['list: agent_id', { agentId: sample.agent_id }, undefined, LIST_TABLES],
        ['list: agent_id, next page', { agentId: sample.agent_id }, cursor, LIST_TABLES],
        ['list: phone', { phoneNumberIds: phoneIds }, undefined, LIST_TABLES],
        ['list: phone, next page', { phoneNumberIds: phoneIds }, cursor, LIST_TABLES],
        [
          'list: phone + q + has_failures=false',
          { phoneNumberIds: phoneIds, q: 'order', hasFailures: false },
          undefined,
          LIST_TABLES,
        ],
        ['list: status active', { status: 'active' }, undefined, []],
        ['list: has_failures (0.4% of calls)', { hasFailures: true }, undefined, []],
        ['list: q, a rare word', { q: String(sample.rare_word) }, undefined, []],
        ['list: q, a word in 3% of replies', { q: 'word17' }, undefined, []],
      ] as Array<[string, CallFilters, typeof cursor | undefined, string[]]>
    ).map(([label, filters, after, tables]): [string, string, unknown[], string[]] => {
      const { sql, params } = listCallsQuery(filters, after, 51);
      return [label, sql, params, tables];
    }),
  ];

  let failures = 0;
  for (const [label, sql, params, guarded] of cases) {
    const [
      {
        'QUERY PLAN': [plan],
      },
    ] = await db.query<ExplainRow[]>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    const nodes = flatten(plan.Plan);
    const seqScans = nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'] ?? '?');
    const indexes = [...new Set(nodes.map((n) => n['Index Name']).filter(Boolean))];
    const forbidden = seqScans.filter((table) => guarded.includes(table));
    if (forbidden.length) failures++;
    const verdict = forbidden.length ? 'FAIL' : guarded.length ? 'ok  ' : 'info';
    console.log(
      `${verdict} ${label.padEnd(38)} ${plan['Execution Time'].toFixed(1).padStart(7)} ms  indexes: ${indexes.join(', ') || 'none'}` +
        (seqScans.length ? `; seq scan: ${seqScans.join(', ')}` : ''),
    );
  }
  console.log(
    failures === 0
      ? 'The list and phone queries use their indexes.'
      : `${failures} list or phone query plan(s) scan a table sequentially.`,
  );
  return failures === 0 ? 0 : 1;
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
