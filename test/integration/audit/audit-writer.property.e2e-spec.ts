import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import type { EventRecord, ExchangeRecord, SessionRecord } from '../../../src/audit/audit-records';
import { toPostgresSafeString } from '../../../src/call-records/postgres-json';
import { startTestApp, TestApp } from '../../support/test-app';
import { deadLetters, distinctWords, incompressible } from '../../support/audit-test-kit';

/** Values Postgres or JSON cannot take as they are: past a limit, malformed, or hostile. */
const HUGE = incompressible(7_000);
const TSVECTOR_BUSTER = distinctWords(1_100_000);
const deeplyNested = (depth: number): unknown => {
  const root: unknown[] = [];
  let level = root;
  for (let i = 0; i < depth; i++) {
    const next: unknown[] = [];
    level.push(next);
    level = next;
  }
  return root;
};
const TOO_DEEP_FOR_JSON = { nested: deeplyNested(200_000) };
const TOO_DEEP_FOR_POSTGRES = { nested: deeplyNested(5_000) };

const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\ud800', 'x\udfff', '🙂\ud83d', '__proto__', 'constructor', HUGE),
);
const oddKey = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '\u0000', '\ud800', '$', 'k'.repeat(300)),
);
const oddObject = fc.oneof(
  fc.dictionary(oddKey, fc.oneof(oddString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null)), {
    maxKeys: 6,
  }),
  fc.constantFrom(
    TOO_DEEP_FOR_JSON,
    TOO_DEEP_FOR_POSTGRES,
    JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}'),
  ),
);
const oddInt = fc.oneof(
  fc.integer({ min: 0, max: 1_000 }),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER),
);
const oddTimestamp = fc.oneof(
  fc.constant(new Date().toISOString()),
  fc.constantFrom('not a date', '294277-01-01T00:00:00Z', '2025-02-30T00:00:00Z', ''),
);
const oddUuid = fc.oneof(fc.uuid(), fc.constantFrom('not-a-uuid', ''));

interface CallPlan {
  ordinary: boolean;
  session: Partial<SessionRecord>;
  exchanges: Array<Partial<ExchangeRecord>>;
  events: Array<Partial<EventRecord>>;
}

const wildCall: fc.Arbitrary<CallPlan> = fc.record({
  ordinary: fc.constant(false),
  session: fc.record(
    {
      sessionId: oddString,
      agentId: oddString,
      callSid: fc.option(oddString),
      metadata: fc.option(oddObject),
      fromNumber: fc.option(oddString),
      toNumber: fc.option(oddString),
      status: fc.constantFrom('active', 'ended', 'bogus'),
      startedAt: oddTimestamp,
      closeCode: fc.option(oddInt),
    },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Partial<SessionRecord>>,
  exchanges: fc.array(
    fc.record(
      {
        id: oddUuid,
        streamId: oddInt,
        kind: fc.constantFrom('greeting', 'reply', 'other'),
        transcript: fc.oneof(
          fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: oddString }), { maxLength: 3 }),
          fc.constant([{ role: 'user', content: TSVECTOR_BUSTER }]),
        ),
        responseText: oddString,
        status: fc.constantFrom('completed', 'failed', 'nonsense'),
        model: fc.option(oddString),
        requestedAt: oddTimestamp,
        promptTokens: fc.option(oddInt),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Partial<ExchangeRecord>>,
    { maxLength: 3 },
  ),
  events: fc.array(
    fc.record(
      { id: oddUuid, type: oddString, streamId: fc.option(oddInt), payload: oddObject },
      { requiredKeys: [] },
    ) as fc.Arbitrary<Partial<EventRecord>>,
    { maxLength: 3 },
  ),
});

const ordinaryCall: fc.Arbitrary<CallPlan> = fc.record({
  ordinary: fc.constant(true),
  session: fc.record({
    agentId: fc.constantFrom('agent-a', 'agent-b'),
    fromNumber: fc.constantFrom('+15550100', '+15550101', null),
  }),
  exchanges: fc.array(
    fc.record({ responseText: fc.string({ maxLength: 30 }) }) as fc.Arbitrary<Partial<ExchangeRecord>>,
    { maxLength: 3 },
  ),
  events: fc.array(
    fc.record({ payload: fc.record({ transcript: fc.string({ maxLength: 30 }) }) }) as fc.Arbitrary<
      Partial<EventRecord>
    >,
    { maxLength: 3 },
  ),
});

/**
 * Random records, hostile ones mixed with ordinary ones, through the real writer into
 * real Postgres: every record ends stored or dead-lettered, ordinary ones always stored.
 */
describe('AuditWriter with arbitrary records', () => {
  let t: TestApp;
  let run = 0;

  beforeAll(async () => {
    // Small statements, so refused rows share them with ordinary ones and with each other.
    t = await startTestApp({
      env: { AUDIT_FLUSH_INTERVAL_MS: '60000', AUDIT_BATCH_SIZE: '8', AUDIT_BATCH_BYTES: String(64 * 1024) },
    });
  });
  afterAll(() => t.close());

  it('stores or dead-letters every record, and stores every ordinary one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(wildCall, ordinaryCall), { minLength: 1, maxLength: 12 }), async (plans) => {
        run += 1;
        const calls = plans.map((plan, i) => enqueue(t, plan, `prop-${run}-${i}`));

        await t.audit.flush();

        expect(t.audit.getStats()).toMatchObject({ backlog: 0, failedFlushes: 0 });
        const letters = await deadLetters(t);
        const lettered = new Set(
          letters.flatMap((l) => [
            ...(l.batch ? Object.values(l.batch).flat() : []).map((row) =>
              String(row.id ?? row.sessionId ?? row.number),
            ),
            ...Object.values((l as unknown as { rows?: Record<string, string[]> }).rows ?? {}).flat(),
          ]),
        );
        const stored = await storedKeys(t, calls);
        for (const call of calls) {
          const keys = [call.session.sessionId, ...call.exchanges.map((e) => e.id), ...call.events.map((e) => e.id)];
          for (const key of keys) {
            if (call.ordinary) expect({ key, stored: stored.has(key) }).toEqual({ key, stored: true });
            else expect({ key, settled: stored.has(key) || lettered.has(key) }).toEqual({ key, settled: true });
          }
        }
      }),
      { numRuns: 30, endOnFailure: true },
    );
  });
});

interface Enqueued {
  ordinary: boolean;
  session: SessionRecord;
  exchanges: ExchangeRecord[];
  events: EventRecord[];
}

function enqueue(t: TestApp, plan: CallPlan, key: string): Enqueued {
  const now = new Date().toISOString();
  const session: SessionRecord = {
    agentId: 'agent',
    callSid: null,
    metadata: null,
    fromNumber: null,
    toNumber: null,
    status: 'ended',
    endReason: null,
    startedAt: now,
    endedAt: null,
    closeCode: null,
    ...plan.session,
    // Unique per call even when wild, so no two calls of a run are one row.
    sessionId: plan.ordinary ? key : `${key}:${plan.session.sessionId ?? ''}`,
  };
  const exchanges = plan.exchanges.map((e, i): ExchangeRecord => ({
    id: randomUUID(),
    streamId: i,
    kind: 'reply',
    transcript: [],
    responseText: '',
    status: 'completed',
    model: null,
    error: null,
    requestedAt: now,
    firstTokenAt: null,
    completedAt: null,
    promptTokens: null,
    completionTokens: null,
    totalTokens: null,
    ...e,
    sessionId: session.sessionId,
  }));
  const events = plan.events.map((e): EventRecord => ({
    id: randomUUID(),
    type: 'partial_transcript',
    streamId: null,
    payload: {},
    receivedAt: now,
    ...e,
    sessionId: session.sessionId,
  }));
  t.audit.recordSession(session);
  exchanges.forEach((e) => t.audit.recordExchange(e));
  events.forEach((e) => t.audit.recordEvent(e));
  return { ordinary: plan.ordinary, session, exchanges, events };
}

/** Keys found in Postgres, as the caller gave them (Postgres holds them with NUL and lone surrogates replaced). */
async function storedKeys(t: TestApp, calls: Enqueued[]): Promise<Set<string>> {
  const byStoredForm = new Map<string, string>();
  for (const call of calls) byStoredForm.set(toPostgresSafeString(call.session.sessionId), call.session.sessionId);
  const ids = calls
    .flatMap((c) => [...c.exchanges, ...c.events].map((r) => r.id))
    .filter((id) => /^[0-9a-f-]{36}$/.test(id));
  const { rows } = await t.db.query(
    `SELECT session_id AS key FROM call_sessions WHERE session_id = ANY($1)
     UNION ALL SELECT id::text FROM stream_exchanges WHERE id = ANY($2::uuid[])
     UNION ALL SELECT id::text FROM call_events WHERE id = ANY($2::uuid[])`,
    [[...byStoredForm.keys()], ids],
  );
  return new Set(rows.map((r: { key: string }) => byStoredForm.get(r.key) ?? r.key));
}
