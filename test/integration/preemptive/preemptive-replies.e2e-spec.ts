import request from 'supertest';
import { messageText } from '../../../dev/fake-llm/fake-llm-scenario';
import { CallSimulator } from '../../../dev/simulator/call-simulator';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { exchangeRows, registerSlowTool, SlowToolProbe } from '../tools/tool-test-kit';

const API_KEY = 'preemptive-test-key-0123456789';
const METRICS_TOKEN = 'preemptive-test-metrics-token';
const HELLO = { role: 'assistant' as const, content: 'Hello.' };
/** A held reply still streaming when its stream_request comes (the mismatch and discard cases). */
const LONG_REPLY = { kind: 'text' as const, text: 'We open at nine. '.repeat(60), tokenDelayMs: 20 };

/**
 * Preemptive replies over real WebSockets, the real openai client against the fake LLM (which
 * echoes the caller's last words: "You said: ..."), real Postgres. PREEMPTIVE_REPLIES is on;
 * one agent's profile turns it off.
 */
describe('Preemptive replies', () => {
  let t: TestApp;
  let probe: SlowToolProbe;
  const clients: MillisPlatformClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      env: { API_KEY, METRICS_TOKEN, GREETING: 'Hello.', PREEMPTIVE_REPLIES: 'true', AGENT_TOOLS: 'slow_lookup' },
    });
    probe = registerSlowTool(t);
    await t.db.query('DELETE FROM agent_profiles');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.close();
  });
  beforeEach(() => t.fakeLlm.reset());

  async function greeted(sessionId: string, agentId = 'agent-1'): Promise<MillisPlatformClient> {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    clients.push(client);
    client.startCall({ session_id: sessionId, agent_id: agentId });
    await client.waitForEnd(0);
    return client;
  }

  function finalPartial(client: MillisPlatformClient, words: string): void {
    client.send({ type: 'partial_transcript', data: { transcript: words, is_final: true } });
  }

  const lastUserWords = (index: number) =>
    messageText([...(t.fakeLlm.requests[index].body.messages ?? [])].reverse().find((m) => m.role === 'user')!);

  async function discards(sessionId: string): Promise<Array<Record<string, unknown>>> {
    const { rows } = await t.db.query(
      `SELECT ev.payload FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id
       WHERE s.session_id = $1 AND ev.type = 'preemption_discarded' ORDER BY ev.received_at`,
      [sessionId],
    );
    return rows.map((r: { payload: Record<string, unknown> }) => r.payload);
  }

  it('speaks a held reply at once when the stream_request confirms the words: one upstream request', async () => {
    const client = await greeted('pre-match');
    const framesBefore = client.received.length;
    const partialAt = performance.now();
    finalPartial(client, 'What are your opening hours?');
    await t.fakeLlm.waitForRequests(1);
    await eventually(() => expect(t.fakeLlm.requests[0].finished).toBe(true));
    expect(lastUserWords(0)).toBe('What are your opening hours?');
    // Held: the reply is complete upstream, and nothing of it has been sent.
    expect(client.received.length).toBe(framesBefore);

    const requestAt = performance.now();
    client.streamRequest(1, [HELLO, { role: 'user', content: 'what are your opening hours' }]);
    expect(await client.waitForEnd(1)).toBe('You said: What are your opening hours?.');
    expect(t.fakeLlm.requests).toHaveLength(1);

    const [, reply] = await eventually(async () => {
      const rows = await exchangeRows(t, 'pre-match');
      expect(rows[1]).toMatchObject({ status: 'completed', preemptive: true });
      return rows;
    });
    expect(reply.prompt_tokens).toBeGreaterThan(0);
    expect(reply.preemption_saved_ms).toBeGreaterThanOrEqual(0);
    // By its definition it cannot exceed the time between the partial and the request (the service
    // sees both a little later than they were sent, with some jitter: a bound, not a speed target).
    expect(reply.preemption_saved_ms).toBeLessThanOrEqual(Math.ceil(requestAt - partialAt) + 250);
    expect(await discards('pre-match')).toEqual([]);

    const detail = await request(t.app.getHttpServer())
      .get('/api/calls/pre-match')
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(detail.body.exchanges[1]).toMatchObject({
      preemptive: true,
      preemption_saved_ms: reply.preemption_saved_ms,
    });
    expect(detail.body.exchanges[0]).toMatchObject({ preemptive: false, preemption_saved_ms: null });
  });

  it('discards a held reply whose words the stream_request does not confirm: aborted upstream, never heard', async () => {
    const client = await greeted('pre-mismatch');
    t.fakeLlm.enqueue(LONG_REPLY);
    finalPartial(client, 'What are your opening hours?');
    await t.fakeLlm.waitForRequests(1);
    await eventually(() => expect(t.fakeLlm.requests[0].tokensWritten).toBeGreaterThan(0));

    client.streamRequest(1, [HELLO, { role: 'user', content: 'What are your prices?' }]);
    await t.fakeLlm.waitForAbort(0);
    expect(await client.waitForEnd(1)).toBe('You said: What are your prices?.');
    expect(t.fakeLlm.requests).toHaveLength(2);
    expect(lastUserWords(1)).toBe('What are your prices?');
    // Not a word of the held reply on the wire, on any stream.
    const sent = client.received.map((f) => JSON.stringify(f)).join('');
    expect(sent).not.toContain('We open at nine');

    const [discard] = await eventually(async () => {
      const rows = await discards('pre-mismatch');
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(discard).toMatchObject({
      reason: 'mismatch',
      user_text: 'What are your opening hours?',
      completed: false,
      usage_estimated: true,
    });
    expect(discard.prompt_tokens).toEqual(expect.any(Number));
    expect(discard.completion_tokens).toBeGreaterThan(0);
    expect(discard.total_tokens).toBe(Number(discard.prompt_tokens) + Number(discard.completion_tokens));
    const rows = await eventually(async () => {
      const all = await exchangeRows(t, 'pre-mismatch');
      expect(all[1]).toMatchObject({ status: 'completed' });
      return all;
    });
    expect(rows[1]).toMatchObject({ preemptive: false, preemption_saved_ms: null });
  });

  it('records the exact usage of a discarded reply that had finished', async () => {
    const client = await greeted('pre-mismatch-done');
    finalPartial(client, 'Is the shop open?');
    await t.fakeLlm.waitForRequests(1);
    await eventually(() => expect(t.fakeLlm.requests[0].finished).toBe(true));
    client.streamRequest(1, [HELLO, { role: 'user', content: 'Is the shop open on Sunday?' }]);
    expect(await client.waitForEnd(1)).toBe('You said: Is the shop open on Sunday?.');
    const [discard] = await eventually(async () => {
      const rows = await discards('pre-mismatch-done');
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(discard).toMatchObject({ reason: 'mismatch', completed: true, usage_estimated: false });
    expect(discard.prompt_tokens).toBeGreaterThan(0);
  });

  it('discards a held reply on an interrupt; the stream_request then starts a fresh one', async () => {
    const client = await greeted('pre-interrupt');
    t.fakeLlm.enqueue(LONG_REPLY);
    finalPartial(client, 'Book me for Monday');
    await t.fakeLlm.waitForRequests(1);
    client.interrupt(0);
    await t.fakeLlm.waitForAbort(0);
    await eventually(async () => expect(await discards('pre-interrupt')).toMatchObject([{ reason: 'interrupt' }]));

    client.streamRequest(1, [HELLO, { role: 'user', content: 'Book me for Monday' }]);
    expect(await client.waitForEnd(1)).toBe('You said: Book me for Monday.');
    expect(t.fakeLlm.requests).toHaveLength(2);
    await eventually(async () =>
      expect((await exchangeRows(t, 'pre-interrupt'))[1]).toMatchObject({ status: 'completed', preemptive: false }),
    );
  });

  it('lets a new final partial supersede the held reply (aborted upstream) and speaks the newer one', async () => {
    const client = await greeted('pre-supersede');
    t.fakeLlm.enqueue(LONG_REPLY);
    finalPartial(client, 'Book me for Monday');
    await t.fakeLlm.waitForRequests(1);
    finalPartial(client, 'Book me for Monday at ten');
    await t.fakeLlm.waitForAbort(0);
    await t.fakeLlm.waitForRequests(2);
    expect(lastUserWords(1)).toBe('Book me for Monday at ten');

    client.streamRequest(1, [HELLO, { role: 'user', content: 'Book me for Monday at ten.' }]);
    expect(await client.waitForEnd(1)).toBe('You said: Book me for Monday at ten.');
    expect(t.fakeLlm.requests).toHaveLength(2);
    expect(client.textOf(1)).not.toContain('Monday.');
    await eventually(async () =>
      expect((await exchangeRows(t, 'pre-supersede'))[1]).toMatchObject({ status: 'completed', preemptive: true }),
    );
    // The discard is recorded once the aborted request settles, which may come after the reply.
    await eventually(async () =>
      expect(await discards('pre-supersede')).toMatchObject([
        { reason: 'superseded', user_text: 'Book me for Monday' },
      ]),
    );
  });

  it('does not run a tool the held reply wants until the stream_request confirms it, then runs it once', async () => {
    const client = await greeted('pre-tool');
    t.fakeLlm.enqueue(
      { kind: 'tool_calls', calls: [{ name: 'slow_lookup', arguments: { ms: 1 } }] },
      { kind: 'text', text: 'I found it.' },
    );
    const startedBefore = probe.started;
    finalPartial(client, 'Can you look that up?');
    await t.fakeLlm.waitForRequests(1);
    await eventually(() => expect(t.fakeLlm.requests[0].finished).toBe(true));
    await client.settle();
    expect(probe.started).toBe(startedBefore);
    expect(t.fakeLlm.requests).toHaveLength(1);

    client.streamRequest(1, [HELLO, { role: 'user', content: 'Can you look that up?' }]);
    expect(await client.waitForEnd(1)).toBe('I found it.');
    expect(probe.started).toBe(startedBefore + 1);
    expect(t.fakeLlm.requests).toHaveLength(2);
    const reply = await eventually(async () => {
      const row = (await exchangeRows(t, 'pre-tool'))[1];
      expect(row).toMatchObject({ status: 'completed', preemptive: true });
      return row;
    });
    expect(reply.tool_calls).toEqual([expect.objectContaining({ name: 'slow_lookup', status: 'ok' })]);
  });

  it('starts nothing upstream on a final partial for an agent whose profile turns the feature off', async () => {
    await request(t.app.getHttpServer())
      .put('/api/agents/quiet-agent')
      .set('x-api-key', API_KEY)
      .send({ preemptive_replies: false })
      .expect(201)
      .expect((res) => expect(res.body.preemptive_replies).toBe(false));
    const client = await greeted('pre-off', 'quiet-agent');
    finalPartial(client, 'What are your opening hours?');
    await client.settle();
    expect(t.fakeLlm.requests).toHaveLength(0);

    client.streamRequest(1, [HELLO, { role: 'user', content: 'What are your opening hours?' }]);
    expect(await client.waitForEnd(1)).toBe('You said: What are your opening hours?.');
    expect(t.fakeLlm.requests).toHaveLength(1);
    await eventually(async () =>
      expect((await exchangeRows(t, 'pre-off'))[1]).toMatchObject({ status: 'completed', preemptive: false }),
    );
  });

  it('is what the call simulator plays with --endpointing-ms: a confirmed turn, then one that ends on other words', async () => {
    const sim = new CallSimulator({ url: t.wsUrl, agentId: 'agent-1', sessionId: 'pre-simulator' });
    await sim.connect();
    await sim.start();
    expect((await sim.sayEndpointed('Where are you?', 50)).text).toBe('You said: Where are you?.');
    expect((await sim.sayEndpointed('And on Sunday?', 50, 'And on')).text).toBe('You said: And on Sunday?.');
    await sim.hangup();
    await eventually(async () =>
      expect((await exchangeRows(t, 'pre-simulator')).map((r) => [r.status, r.preemptive])).toEqual([
        ['completed', false],
        ['completed', true],
        ['completed', false],
      ]),
    );
    await eventually(async () =>
      expect(await discards('pre-simulator')).toMatchObject([{ reason: 'mismatch', user_text: 'And on' }]),
    );
  });

  it('discards a held reply when the call ends, and counts it all in the metrics', async () => {
    const client = await greeted('pre-hangup');
    t.fakeLlm.enqueue(LONG_REPLY);
    finalPartial(client, 'One more thing');
    await t.fakeLlm.waitForRequests(1);
    await client.close();
    await t.fakeLlm.waitForAbort(0);
    await eventually(async () => expect(await discards('pre-hangup')).toMatchObject([{ reason: 'call_ended' }]));

    const metrics = await request(t.app.getHttpServer())
      .get('/metrics')
      .set('Authorization', `Bearer ${METRICS_TOKEN}`)
      .expect(200);
    expect(metrics.text).toMatch(/millis_preemptive_replies_started_total \d+/);
    expect(metrics.text).toMatch(/millis_preemptive_replies_used_total [1-9]/);
    for (const reason of ['mismatch', 'interrupt', 'superseded', 'call_ended'])
      expect(metrics.text).toMatch(
        new RegExp(`millis_preemptive_replies_discarded_total\\{reason="${reason}"\\} [1-9]`),
      );
    expect(metrics.text).toMatch(/millis_preemptive_discarded_tokens_total [1-9]/);
    expect(metrics.text).toMatch(/millis_preemption_saved_seconds_count [1-9]/);
  });
});
