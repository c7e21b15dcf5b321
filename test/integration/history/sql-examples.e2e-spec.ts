import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from '../../support/test-app';
import { seedCall } from '../../support/history-fixtures';

/**
 * The numbered ```sql blocks of docs/sql.md, in order: the doc and these tests cannot drift apart. The Webhooks
 * section's queries run in test/integration/webhooks/webhook-sql.e2e-spec.ts.
 */
const QUERIES = [
  ...readFileSync(join(__dirname, '../../../docs/sql.md'), 'utf8')
    .split('\n## Webhooks\n')[0]
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

  it('has sixteen queries', () => {
    expect(QUERIES).toHaveLength(16);
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

  describe('post-call analysis', () => {
    beforeAll(async () => {
      const analysis = (session: string, values: string) =>
        t.db.query(
          `INSERT INTO call_analyses (call_session_id, request_id, status, summary, outcome, sentiment, custom_fields,
             model, prompt_tokens, completion_tokens, attempts, error, completed_at)
           SELECT id, gen_random_uuid(), ${values} FROM call_sessions WHERE session_id = $1`,
          [session],
        );
      await analysis(
        'sql-tuesday-1',
        `'completed', 'Refund asked, appointment booked.', 'resolved', 'neutral', '{"appointment_booked": true}', 'gpt-4o-mini', 500, 60, 1, NULL, '2025-11-18T10:06:00Z'`,
      );
      await analysis(
        'sql-tuesday-2',
        `'completed', 'Upgrade asked.', 'follow_up', 'negative', '{"appointment_booked": false}', 'gpt-4o-mini', 300, 40, 1, NULL, '2025-11-18T14:03:00Z'`,
      );
      await analysis(
        'sql-wednesday-1',
        `'failed', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 3, 'model answer is not valid JSON: Unexpected end of JSON input', '2025-11-19T09:12:00Z'`,
      );
    });

    it('13. outcome mix per agent per day', async () => {
      const rows = await run(13);
      expect(rows.map((r) => [r.agent_id, r.outcome, Number(r.calls), Number(r.pct)])).toEqual([
        ['sales', 'follow_up', 1, 100],
        ['support', 'resolved', 1, 100],
      ]);
    });

    it('14. calls where a custom field is true', async () => {
      expect((await run(14)).map((r) => r.session_id)).toEqual(['sql-tuesday-1']);
    });

    it('15. failed analyses and why', async () => {
      expect((await run(15)).map((r) => [r.session_id, r.attempts, r.error])).toEqual([
        ['sql-wednesday-1', 3, 'model answer is not valid JSON: Unexpected end of JSON input'],
      ]);
    });

    it('16. what the analyses cost per day', async () => {
      const rows = await run(16);
      expect(
        rows.map((r) => [r.model, Number(r.analyses), Number(r.prompt_tokens), Number(r.tokens_per_analysis)]),
      ).toEqual([['gpt-4o-mini', 2, 800, 450]]);
    });
  });

  it('10. calls that did not end normally or are stuck', async () => {
    expect((await run(10)).map((r) => [r.session_id, r.status, r.end_reason])).toEqual([
      ['sql-stuck', 'active', null],
      ['sql-wednesday-1', 'ended', 'crashed'],
    ]);
  });

  describe('preemptive replies', () => {
    beforeAll(async () => {
      const {
        rows: [session],
      } = await t.db.query(
        `INSERT INTO call_sessions (session_id, agent_id, status, started_at, ended_at)
         VALUES ('sql-preempt', 'support', 'ended', '2025-11-18T11:00:00Z', '2025-11-18T11:05:00Z') RETURNING id`,
      );
      await t.db.query(
        `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, response_text, status, model,
           requested_at, first_token_at, completed_at, preemptive, preemption_saved_ms)
         VALUES (gen_random_uuid(), $1, 7, 'reply', '[]', 'Yes.', 'completed', 'm',
                 '2025-11-18T11:01:00Z', '2025-11-18T11:01:00.020Z', '2025-11-18T11:01:01Z', true, 480)`,
        [session.id],
      );
      const discard = (reason: string, tokens: number, estimated: boolean, at: string) =>
        t.db.query(
          `INSERT INTO call_events (id, call_session_id, type, stream_id, payload, received_at)
           VALUES (gen_random_uuid(), $1, 'preemption_discarded', NULL, $2, $3)`,
          [session.id, { reason, total_tokens: tokens, usage_estimated: estimated }, at],
        );
      await discard('mismatch', 120, false, '2025-11-18T11:02:00Z');
      await discard('mismatch', 80, true, '2025-11-18T11:03:00Z');
      await discard('interrupt', 50, true, '2025-11-19T09:00:00Z');
    });

    it('11. tokens spent on discarded preemptive replies, per day and reason', async () => {
      const rows = await run(11);
      expect(
        rows.map((r) => [
          r.day.toISOString().slice(0, 10),
          r.reason,
          Number(r.discarded),
          Number(r.tokens),
          Number(r.estimated),
        ]),
      ).toEqual([
        ['2025-11-18', 'mismatch', 2, 200, 1],
        ['2025-11-19', 'interrupt', 1, 50, 1],
      ]);
    });

    it('12. what preemptive replies saved, per agent', async () => {
      const support = (await run(12)).find((r) => r.agent_id === 'support');
      expect(support).toMatchObject({ avg_saved_ms: '480' });
      expect(Number(support.preemptive_replies)).toBe(1);
      expect(Number(support.replies)).toBeGreaterThan(1);
    });
  });
});
