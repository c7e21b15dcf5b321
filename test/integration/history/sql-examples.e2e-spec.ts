import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../../support/test-app';
import { seedCall } from '../../support/history-fixtures';

/** The ```sql blocks of the ten questions in docs/sql.md, in order: the doc and these tests cannot drift apart. */
const QUERIES = [
  ...readFileSync(join(__dirname, '../../../docs/sql.md'), 'utf8')
    .split('\n## Ten questions a support lead asks\n')[1]
    .split('\n## ')[0]
    .matchAll(/```sql\n([\s\S]*?)```/g),
].map((m) => m[1]);

const greeting = { kind: 'greeting' as const, response: 'Hello, Acme here.', atMs: 10, model: null, ttftMs: 0 };

describe('The example queries of docs/sql.md', () => {
  let t: TestApp;
  const run = async (n: number) => (await t.db.query(QUERIES[n - 1])).rows;

  beforeAll(async () => {
    t = await startTestApp();
    await seedCall(t.db, {
      sessionId: 'sql-tuesday-1',
      agentId: 'support',
      from: '+15550100',
      to: '+15550199',
      startedAt: new Date('2025-11-18T10:00:00Z'),
      durationMs: 300_000,
      exchanges: [
        greeting,
        { user: 'I want a refund', response: 'Refunds take five days.', atMs: 2000, ttftMs: 100 },
        {
          user: 'And my order?',
          history: [
            { role: 'user', content: 'I want a refund' },
            { role: 'assistant', content: 'Refunds take five days.' },
          ],
          response: 'Your order is on',
          status: 'interrupted',
          atMs: 8000,
          ttftMs: 300,
        },
      ],
    });
    await seedCall(t.db, {
      sessionId: 'sql-tuesday-2',
      agentId: 'sales',
      from: '+15550222',
      to: '+1 555 0100',
      startedAt: new Date('2025-11-18T14:00:00Z'),
      durationMs: 120_000,
      exchanges: [
        greeting,
        { user: 'Can I upgrade my plan', response: 'Sorry, could you say that again?', status: 'failed', atMs: 3000 },
      ],
    });
    await seedCall(t.db, {
      sessionId: 'sql-wednesday-1',
      agentId: 'support',
      from: '+15550222',
      startedAt: new Date('2025-11-19T09:00:00Z'),
      durationMs: 600_000,
      endReason: 'crashed',
      exchanges: [greeting, { user: 'Where is my parcel', response: 'It ships tomorrow.', atMs: 1500, ttftMs: 250 }],
    });
    await seedCall(t.db, {
      sessionId: 'sql-old',
      agentId: 'support',
      from: '+15550100',
      startedAt: new Date('2025-11-10T10:00:00Z'),
      exchanges: [greeting],
    });
    await seedCall(t.db, {
      sessionId: 'sql-stuck',
      agentId: 'sales',
      startedAt: new Date('2025-11-20T10:00:00Z'),
      status: 'active',
      exchanges: [greeting],
    });
  });
  afterAll(() => t.close());

  it('has ten queries', () => {
    expect(QUERIES).toHaveLength(10);
  });

  it('1. what the agent said to a number on a day, whichever way the number is written', async () => {
    const rows = await run(1);
    expect(rows.map((r) => [r.session_id, r.caller_said, r.agent_said, r.status])).toEqual([
      ['sql-tuesday-1', null, 'Hello, Acme here.', 'completed'],
      ['sql-tuesday-1', 'I want a refund', 'Refunds take five days.', 'completed'],
      ['sql-tuesday-1', 'And my order?', 'Your order is on', 'interrupted'],
      ['sql-tuesday-2', null, 'Hello, Acme here.', 'completed'],
      ['sql-tuesday-2', 'Can I upgrade my plan', 'Sorry, could you say that again?', 'failed'],
    ]);
  });

  it('2. which calls failed and why', async () => {
    expect(await run(2)).toEqual([
      expect.objectContaining({
        session_id: 'sql-tuesday-2',
        agent_id: 'sales',
        from_number: '+15550222',
        stream_id: 1,
        caller_said: 'Can I upgrade my plan',
        error: 'LLM timed out',
      }),
    ]);
  });

  it('3. LLM time to first token per agent, static greetings and failures left out', async () => {
    const rows = await run(3);
    expect(
      rows.map((r) => [
        r.agent_id,
        Number(r.replies),
        Number(r.ttft_p50_ms),
        Number(r.ttft_p95_ms),
        Number(r.slowest_total_ms),
      ]),
    ).toEqual([['support', 2, 200, 290, 500]]);
  });

  it('4. calls per day', async () => {
    const rows = await run(4);
    expect(
      rows.map((r) => [
        r.day.toISOString().slice(0, 10),
        Number(r.calls),
        r.avg_seconds === null ? null : Number(r.avg_seconds),
        Number(r.turns),
        Number(r.calls_with_failures),
      ]),
    ).toEqual([
      ['2025-11-18', 2, 210, 3, 1],
      ['2025-11-19', 1, 600, 1, 0],
      ['2025-11-20', 1, null, 0, 0],
    ]);
  });

  it('5. one conversation as heard', async () => {
    const rows = await run(5);
    expect(rows.map((r) => [r.speaker, r.text, r.cut_off])).toEqual([
      ['agent', 'Hello, Acme here.', false],
      ['caller', 'I want a refund', false],
      ['agent', 'Refunds take five days.', false],
      ['caller', 'And my order?', false],
      ['agent', 'Your order is on', true],
    ]);
  });

  it('6. repeat callers', async () => {
    const rows = await run(6);
    expect(rows.map((r) => [r.from_number, Number(r.calls), Number(r.calls_with_failures)])).toEqual([
      ['+15550222', 2, 1],
    ]);
  });

  it('7. calls where a word came up', async () => {
    expect((await run(7)).map((r) => r.session_id)).toEqual(['sql-tuesday-1']);
  });

  it('8. how often callers interrupt, per agent', async () => {
    const rows = await run(8);
    expect(rows.map((r) => [r.agent_id, Number(r.replies), Number(r.interrupted), Number(r.interrupted_pct)])).toEqual([
      ['support', 3, 1, 33.3],
      ['sales', 1, 0, 0],
    ]);
  });

  it('9. the longest calls', async () => {
    const rows = await run(9);
    expect(rows.map((r) => [r.session_id, Number(r.minutes)])).toEqual([
      ['sql-wednesday-1', 10],
      ['sql-tuesday-1', 5],
      ['sql-tuesday-2', 2],
    ]);
  });

  it('10. calls that did not end normally or are stuck', async () => {
    expect((await run(10)).map((r) => [r.session_id, r.status, r.end_reason])).toEqual([
      ['sql-stuck', 'active', null],
      ['sql-wednesday-1', 'ended', 'crashed'],
    ]);
  });
});
