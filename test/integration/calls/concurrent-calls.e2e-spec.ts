import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

const CALLS = 50;
const TURNS = 3;

describe('50 concurrent calls', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    t.fakeLlm.setOptions({ firstTokenDelayMs: 20, tokenDelayMs: 3 });
  });
  afterAll(() => t.close());

  it('each hear only their own replies, and every exchange is stored once', async () => {
    const clients = await Promise.all(Array.from({ length: CALLS }, () => MillisPlatformClient.connect(t.wsUrl)));

    await Promise.all(
      clients.map(async (client, i) => {
        client.startCall({
          session_id: `crowd-${i}`,
          metadata: { customer: `caller ${i}` },
          voip: { from: `+1555000${i}`, to: '+15559999' },
        });
        await client.waitForEnd(0, 10_000);
        const transcript: Array<{ role: 'user' | 'assistant'; content: string }> = [
          { role: 'assistant', content: client.textOf(0) },
        ];
        for (let turn = 1; turn <= TURNS; turn++) {
          transcript.push({ role: 'user', content: `caller ${i} turn ${turn}` });
          client.streamRequest(turn, transcript);
          const reply = await client.waitForEnd(turn, 10_000);
          expect(reply).toBe(`You said: caller ${i} turn ${turn}.`);
          transcript.push({ role: 'assistant', content: reply });
        }
      }),
    );
    await Promise.all(clients.map((c) => c.close()));

    await eventually(async () => {
      const { rows } = await t.db.query(`
        SELECT count(DISTINCT s.id)::int AS sessions, count(e.id)::int AS exchanges,
               count(*) FILTER (WHERE e.status = 'completed')::int AS completed,
               count(DISTINCT s.id) FILTER (WHERE s.status = 'ended')::int AS ended
        FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id
        WHERE s.session_id LIKE 'crowd-%'`);
      expect(rows[0]).toEqual({
        sessions: CALLS,
        exchanges: CALLS * (TURNS + 1),
        completed: CALLS * (TURNS + 1),
        ended: CALLS,
      });
    }, 10_000);

    const { rows: mixed } = await t.db.query(`
      SELECT s.session_id, e.response_text FROM call_sessions s JOIN stream_exchanges e ON e.call_session_id = s.id
      WHERE s.session_id LIKE 'crowd-%' AND e.kind = 'reply'
        AND e.response_text NOT LIKE 'You said: caller ' || substr(s.session_id, 7) || ' turn %'`);
    expect(mixed).toEqual([]);
    const { rows: phones } = await t.db.query(
      `SELECT count(*)::int AS n FROM phone_numbers WHERE number LIKE '+1555%'`,
    );
    expect(phones[0].n).toBe(CALLS + 1);
  });
});
