import fc from 'fast-check';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually } from '../../support/eventually';
import { COLLECTABLE_HEAP, spawnService } from '../support/service-process';
import { useProcessSuite } from '../support/process-suite';

const RUNS = 20;
const FRAMES_PER_RUN = 500;
const MAX_PAYLOAD = 65_536;
const SESSION = 'fuzz-1';
/** The largest stream_id the protocol accepts (MAX_STREAM_ID, a Postgres int). */
const MAX_STREAM_ID = 2_147_483_647;

/** Nested arrays/objects deeper than the parser accepts (64), or just under. */
const deep = fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean()).map(([depth, arrays]) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = arrays ? [value] : { d: value };
  return value;
});
const anyValue = fc.oneof(
  fc.anything(),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.integer({ min: 60_000, max: 120_000 }).map((n) => 'x'.repeat(n)),
  deep,
);
const streamId = fc.oneof(
  fc.integer({ min: -3, max: 50 }),
  fc.integer(),
  fc.constantFrom(2_147_483_647, 2_147_483_648, Number.MAX_SAFE_INTEGER, -0, 1.5, Number.NaN),
  anyValue,
);
const transcript = fc.oneof(
  fc.array(
    fc.record({
      role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', ''), anyValue),
      content: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), anyValue),
    }),
    { maxLength: 6 },
  ),
  anyValue,
);
const frameType = fc.oneof(
  fc.constantFrom('start_call', 'stream_request', 'interrupt', 'partial_transcript', 'playback_finished'),
  fc.string({ maxLength: 20 }),
  anyValue,
);
/**
 * Valid shapes with every field possibly wrong, plus raw text and binary. Frames stay under
 * 4 x WS_MAX_PAYLOAD: beyond that the socket is closed with 1009 by design (not read at all).
 */
const frame: fc.Arbitrary<string | Buffer> = fc
  .oneof(
    {
      weight: 6,
      arbitrary: fc
        .record(
          {
            type: frameType,
            data: fc.record(
              {
                stream_id: streamId,
                transcript,
                session_id: anyValue,
                agent_id: anyValue,
                is_final: anyValue,
                metadata: anyValue,
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: ['type'] },
        )
        .map((f) => JSON.stringify(f)),
    },
    {
      weight: 3,
      arbitrary: fc
        .record({
          type: fc.constant('stream_request'),
          data: fc.record({
            stream_id: fc.integer({ min: -2, max: 40 }),
            transcript: fc.constant([{ role: 'user', content: 'hi' }]),
          }),
        })
        .map((f) => JSON.stringify(f)),
    },
    {
      weight: 2,
      arbitrary: fc.record({ type: fc.constant('interrupt'), stream_id: streamId }).map((f) => JSON.stringify(f)),
    },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  )
  .filter((f) => Buffer.byteLength(f) < 4 * MAX_PAYLOAD);

describe('10,000 random and mutated frames at a live call', () => {
  const suite = useProcessSuite({ firstTokenDelayMs: 2, tokenDelayMs: 1 });

  it('never break the call or the process; every frame is handled or recorded invalid; memory stays bounded', async () => {
    const { fake, db } = suite;
    const service = (suite.service = await spawnService(
      {
        OPENAI_BASE_URL: fake.baseUrl,
        GREETING: 'Hi.',
        LOG_LEVEL: 'error',
        WS_MAX_PAYLOAD: String(MAX_PAYLOAD),
        WS_MAX_FRAMES_PER_SECOND: '1000000',
        WS_FRAME_BURST: '1000000',
      },
      { nodeArgs: COLLECTABLE_HEAP },
    ));
    const client = await MillisPlatformClient.connect(service.wsUrl);
    client.startCall({ session_id: SESSION });
    await client.waitForEnd(0);
    const heapBefore = await service.heapAfterGc();

    let sent = 0;
    const recorded = async () => {
      const { rows } = await db.query(
        `SELECT (SELECT count(*) FROM call_events e WHERE e.call_session_id = s.id)::int
              + (SELECT count(*) FROM stream_exchanges x WHERE x.call_session_id = s.id AND x.kind = 'reply')::int AS n
           FROM call_sessions s WHERE s.session_id = $1`,
        [SESSION],
      );
      return rows[0]?.n as number;
    };

    await assertQuietly(
      fc.asyncProperty(fc.array(frame, { minLength: FRAMES_PER_RUN, maxLength: FRAMES_PER_RUN }), async (frames) => {
        for (const f of frames) client.sendRaw(f, Buffer.isBuffer(f));
        sent += frames.length;
        // Every frame became exactly one row: an exchange, an event, or an `invalid` event.
        await eventually(async () => expect(await recorded()).toBe(sent), 15_000, 100);
        expect(client.isOpen).toBe(true);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    expect(sent).toBe(RUNS * FRAMES_PER_RUN);

    // The call still works, the process is up and wrote no error.
    // The highest id there is: a fuzzed frame may already have used any lower one (or this one).
    const before = client.received.length;
    const replyTo = (f: (typeof client.received)[number]) =>
      f.type === 'stream_response' && f.data.stream_id === MAX_STREAM_ID;
    client.streamRequest(MAX_STREAM_ID, [{ role: 'user', content: 'still there?' }]);
    await client.waitUntil(
      () =>
        client.received.slice(before).some((f) => replyTo(f) && f.type === 'stream_response' && f.data.end_of_stream),
      5000,
      'the reply',
    );
    const text = client.received
      .slice(before)
      .filter(replyTo)
      .map((f) => (f.type === 'stream_response' ? f.data.content : ''))
      .join('');
    expect(text).toBe('You said: still there?.');
    expect((await fetch(`${service.httpUrl}/health/live`)).status).toBe(200);
    expect(await service.metric('millis_audit_dead_lettered_total')).toBe(0);
    expect(service.output()).not.toMatch(/Unhandled|Uncaught|"level":50|"level":60/);

    await eventually(async () => expect(await service.metric('millis_audit_queue_depth')).toBe(0), 10_000);
    const heapAfter = await service.heapAfterGc();
    const grownMb = (heapAfter - heapBefore) / 1024 / 1024;
    console.log(
      `fuzz: ${sent} frames, heap after full GC ${(heapBefore / 1048576).toFixed(1)} MB -> ${(heapAfter / 1048576).toFixed(1)} MB`,
    );
    // After a full GC: what the call, the audit and the process retain after 10,000 frames.
    expect(grownMb).toBeLessThan(16);
    await client.close();
  });
});

/** fast-check prints the whole counterexample: with 100 KB strings in it, keep the head. */
async function assertQuietly(...args: Parameters<typeof fc.assert>): Promise<void> {
  try {
    await fc.assert(...args);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    const message = (error as Error).message;
    const head = message.length > 3000 ? `${message.slice(0, 1500)}\n…\n${message.slice(-1500)}` : message;
    // eslint-disable-next-line preserve-caught-error -- the cause would print the whole counterexample again
    throw new Error(`${cause ? `Cause: ${cause.message}\n` : ''}${head}`);
  }
}
