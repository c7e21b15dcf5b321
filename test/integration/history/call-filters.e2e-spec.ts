import request from 'supertest';
import { startTestApp, TestApp } from '../../support/test-app';
import { API_KEY, CallSeed, seedCall, simpleCall } from '../../support/history-fixtures';

const DAY = Date.parse('2025-11-18T00:00:00Z');
const at = (hours: number) => new Date(DAY + hours * 3_600_000);

/** Six calls over two days, each with one distinguishing trait. */
const CALLS: CallSeed[] = [
  simpleCall('f-1', at(9), { agentId: 'support', from: '+15550100' }),
  simpleCall('f-2', at(10), { agentId: 'sales', from: '+15550101' }, 'I want a refund for my order'),
  {
    ...simpleCall('f-3', at(11), { agentId: 'support', from: '+15550102', to: '+15550100' }),
    exchanges: [
      { kind: 'greeting', response: 'Hello!', atMs: 10, model: null, ttftMs: 0 },
      {
        user: 'Where is my parcel',
        response: 'Sorry, I am having trouble answering right now.',
        status: 'failed',
        atMs: 2000,
      },
    ],
  },
  simpleCall('f-4', at(12), { agentId: 'support', status: 'active', durationMs: null, from: '+44 20 7946 0000' }),
  simpleCall('f-5', at(24 + 9), { agentId: 'sales', from: '+15550100' }, 'Can I upgrade my plan'),
  simpleCall('f-6', at(24 + 10), { agentId: 'support', from: '+15550103' }, 'Refunds take how long?'),
];

describe('GET /api/calls filters and pagination', () => {
  let t: TestApp;
  const list = async (query: Record<string, string | number | boolean>) => {
    const res = await request(t.app.getHttpServer())
      .get('/api/calls')
      .query(query)
      .set('x-api-key', API_KEY)
      .expect(200);
    return res.body as { items: Array<{ session_id: string }>; next_cursor: string | null };
  };
  const ids = async (query: Record<string, string | number | boolean>) =>
    (await list(query)).items.map((c) => c.session_id);

  /** Every page of a query, following next_cursor. */
  async function allPages(query: Record<string, string | number | boolean>, between?: (page: number) => Promise<void>) {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const body = await list(cursor ? { ...query, cursor } : query);
      seen.push(...body.items.map((c) => c.session_id));
      cursor = body.next_cursor;
      if (!cursor) return seen;
      await between?.(page);
    }
    throw new Error('pagination did not end');
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { API_KEY } });
    for (const call of CALLS) await seedCall(t.db, call);
  });
  afterAll(() => t.close());

  it.each<[string, Record<string, string | number | boolean>, string[]]>([
    ['no filter', {}, ['f-6', 'f-5', 'f-4', 'f-3', 'f-2', 'f-1']],
    ['from (inclusive)', { from: at(11).toISOString() }, ['f-6', 'f-5', 'f-4', 'f-3']],
    ['to (exclusive)', { to: at(11).toISOString() }, ['f-2', 'f-1']],
    ['a day given as a date', { from: '2025-11-19', to: '2025-11-20' }, ['f-6', 'f-5']],
    ['a time with an offset', { from: '2025-11-18T12:00:00+01:00' }, ['f-6', 'f-5', 'f-4', 'f-3']],
    ['agent_id', { agent_id: 'sales' }, ['f-5', 'f-2']],
    ['phone, caller side', { phone: '+15550101' }, ['f-2']],
    ['phone, either side', { phone: '+15550100' }, ['f-5', 'f-3', 'f-1']],
    ['phone, spaced differently', { phone: '+44 (20) 7946-0000' }, ['f-4']],
    ['status active', { status: 'active' }, ['f-4']],
    ['status ended', { status: 'ended', agent_id: 'support' }, ['f-6', 'f-3', 'f-1']],
    ['has_failures=true', { has_failures: true }, ['f-3']],
    ['has_failures=false', { has_failures: 'false', to: at(12).toISOString() }, ['f-2', 'f-1']],
    ['q in what the caller said, by word prefix', { q: 'refund' }, ['f-6', 'f-2']],
    ['q, every word must match', { q: 'refund order' }, ['f-2']],
    ['q in what the agent answered, any case', { q: 'TROUBLE' }, ['f-3']],
    ['q matching nothing', { q: 'zebra' }, []],
    [
      'everything combined',
      {
        from: '2025-11-18',
        to: '2025-11-20',
        agent_id: 'support',
        phone: '+15550100',
        status: 'ended',
        has_failures: false,
        q: 'opening',
      },
      ['f-1'],
    ],
  ])('filters by %s', async (_label, query, expected) => {
    expect(await ids(query)).toEqual(expected);
  });

  it('gives a one-line summary of the first thing the caller said', async () => {
    const { items } = await list({ agent_id: 'sales' });
    expect(items.map((c) => (c as unknown as { summary: string }).summary)).toEqual([
      'Can I upgrade my plan',
      'I want a refund for my order',
    ]);
  });

  it.each<[string, Record<string, string | number | boolean>]>([
    ['no filter', {}],
    ['agent_id', { agent_id: 'support' }],
    ['phone', { phone: '+15550100' }],
    ['q', { q: 'you' }],
    ['has_failures=false', { has_failures: false }],
  ])('pages through %s without duplicates or gaps', async (_label, query) => {
    const everything = await ids({ ...query, limit: 200 });
    expect(await allPages({ ...query, limit: 1 })).toEqual(everything);
    expect(await allPages({ ...query, limit: 2 })).toEqual(everything);
  });

  it('keeps calls that started in the same microsecond apart, and pages stay stable while new calls arrive', async () => {
    const sameInstant = new Date(DAY - 3_600_000);
    for (let i = 0; i < 5; i++) await seedCall(t.db, simpleCall(`tie-${i}`, sameInstant, { agentId: 'ties' }));
    const before = await ids({ agent_id: 'ties', limit: 200 });
    expect(before).toHaveLength(5);

    let arrivals = 0;
    const paged = await allPages({ agent_id: 'ties', limit: 2 }, async () => {
      // A new call arrives between every two pages: it is newer, so it is not on the pages still to come.
      await seedCall(t.db, simpleCall(`tie-new-${arrivals++}`, new Date(), { agentId: 'ties' }));
    });
    expect(paged).toEqual(before);
    expect(new Set(paged).size).toBe(5);
    expect(await ids({ agent_id: 'ties', limit: 200 })).toHaveLength(5 + arrivals);
  });

  it('caps limit at 200 and defaults it to 50', async () => {
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM call_sessions`);
    const total = rows[0].n as number;
    const page = await list({});
    expect(page.items).toHaveLength(Math.min(50, total));
    await request(t.app.getHttpServer()).get('/api/calls?limit=201').set('x-api-key', API_KEY).expect(400);
  });

  describe('validation', () => {
    it.each<[string, string, RegExp]>([
      ['a bad date', 'from=last%20tuesday', /from must be an ISO 8601 date/],
      ['an impossible date', 'to=2025-02-30', /to must be an ISO 8601 date/],
      ['an unknown status', 'status=dropped', /status must be one of: active, ended/],
      ['a malformed cursor', 'cursor=not-a-cursor', /cursor is malformed/],
      [
        'a cursor with a forged payload',
        `cursor=${Buffer.from('["2025-01-01T00:00:00Z","1; DROP TABLE x"]').toString('base64url')}`,
        /cursor is malformed/,
      ],
      ['a limit of 0', 'limit=0', /limit must not be less than 1/],
      ['a limit that is not a number', 'limit=ten', /limit must be an integer/],
      ['has_failures not a boolean', 'has_failures=maybe', /has_failures must be true or false/],
      ['q without a word', 'q=%21%21%21', /q must contain a letter or digit/],
      ['a phone without digits', 'phone=abc', /phone must contain digits/],
      ['an unknown parameter', 'sort=asc', /property sort should not exist/],
    ])('answers 400 for %s with a clear message', async (_label, query, message) => {
      const res = await request(t.app.getHttpServer()).get(`/api/calls?${query}`).set('x-api-key', API_KEY).expect(400);
      expect(res.body.statusCode).toBe(400);
      expect([res.body.message].flat().join('; ')).toMatch(message);
    });

    it('validates the per-number list and the stats too', async () => {
      const byNumber = await request(t.app.getHttpServer())
        .get('/api/phone-numbers/+15550100/calls?status=x')
        .set('x-api-key', API_KEY)
        .expect(400);
      expect(byNumber.body.message.join()).toMatch(/status must be one of/);
      const stats = await request(t.app.getHttpServer())
        .get('/api/stats?from=soon')
        .set('x-api-key', API_KEY)
        .expect(400);
      expect(stats.body.message.join()).toMatch(/from must be an ISO 8601/);
      const backwards = await request(t.app.getHttpServer())
        .get('/api/stats')
        .query({ from: '2025-11-19', to: '2025-11-18' })
        .set('x-api-key', API_KEY)
        .expect(400);
      expect(backwards.body.message).toBe('from must be before to');
    });
  });

  it('counts calls, turns, failures and LLM time to first token, in total, per agent and per day', async () => {
    const res = await request(t.app.getHttpServer())
      .get('/api/stats')
      .query({ from: '2025-11-18T00:00:00Z', to: '2025-11-20T00:00:00Z' })
      .set('x-api-key', API_KEY)
      .expect(200);

    // Each call: a static greeting (no model, not timed) and one reply with a 100 ms first token; f-3's reply failed.
    expect(res.body).toEqual({
      from: '2025-11-18T00:00:00.000Z',
      to: '2025-11-20T00:00:00.000Z',
      totals: { calls: 6, turns: 6, failed_exchanges: 1, failed_calls: 1, ttft_p50_ms: 100, ttft_p95_ms: 100 },
      outcomes: [],
      by_agent: [
        {
          agent_id: 'sales',
          calls: 2,
          turns: 2,
          failed_exchanges: 0,
          failed_calls: 0,
          ttft_p50_ms: 100,
          ttft_p95_ms: 100,
          outcomes: [],
        },
        {
          agent_id: 'support',
          calls: 4,
          turns: 4,
          failed_exchanges: 1,
          failed_calls: 1,
          ttft_p50_ms: 100,
          ttft_p95_ms: 100,
          outcomes: [],
        },
      ],
      by_day: [
        {
          day: '2025-11-18',
          calls: 4,
          turns: 4,
          failed_exchanges: 1,
          failed_calls: 1,
          ttft_p50_ms: 100,
          ttft_p95_ms: 100,
        },
        {
          day: '2025-11-19',
          calls: 2,
          turns: 2,
          failed_exchanges: 0,
          failed_calls: 0,
          ttft_p50_ms: 100,
          ttft_p95_ms: 100,
        },
      ],
    });
  });

  it('computes the percentiles over the replies', async () => {
    const start = Date.parse('2025-10-01T10:00:00Z');
    const exchanges = Array.from({ length: 20 }, (_, i) => ({
      user: `question ${i}`,
      response: 'ok',
      atMs: i * 1000,
      ttftMs: (i + 1) * 10,
    }));
    await seedCall(t.db, { sessionId: 'p-1', agentId: 'perc', startedAt: new Date(start), exchanges });

    const res = await request(t.app.getHttpServer())
      .get('/api/stats')
      .query({ from: '2025-10-01', to: '2025-10-02' })
      .set('x-api-key', API_KEY)
      .expect(200);
    // percentile_cont over 10, 20, ..., 200 ms.
    expect(res.body.totals).toMatchObject({ calls: 1, turns: 20, ttft_p50_ms: 105, ttft_p95_ms: 190.5 });
    const empty = await request(t.app.getHttpServer())
      .get('/api/stats')
      .query({ from: '2020-01-01', to: '2020-01-02' })
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(empty.body).toMatchObject({ totals: { calls: 0, turns: 0, ttft_p50_ms: null }, by_agent: [], by_day: [] });
  });
});
