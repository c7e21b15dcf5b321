import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

describe('A call as the Millis platform makes it', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { GREETING: 'Hello {{customer}}, thanks for calling <break time="300ms"/>How can I help?' },
    });
  });
  afterAll(() => t.close());
  beforeEach(() => t.fakeLlm.reset());

  async function exchanges(sessionId: string) {
    const { rows } = await t.db.query(
      `SELECT e.* FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
       WHERE s.session_id = $1 ORDER BY e.requested_at, e.stream_id`,
      [sessionId],
    );
    return rows;
  }

  it('speaks the configured greeting with the start_call stream_id, filled from metadata, with a pause', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({
      stream_id: 7,
      session_id: 'flow-greeting',
      agent_id: 'agent-a',
      call_sid: 'CA123',
      metadata: { customer: 'Ada', plan: 'gold' },
      voip: { from: '+15550100', to: '+15550199' },
    });

    expect(await client.waitForEnd(7)).toBe('Hello Ada, thanks for calling How can I help?');
    const pieces = client.responses(7);
    expect(pieces[0]).toEqual({
      stream_id: 7,
      content: 'Hello Ada, thanks for calling ',
      end_of_stream: false,
      flush: true,
      pause: 300,
    });
    expect(pieces.at(-1)).toMatchObject({ end_of_stream: true, flush: true });
    expect(t.fakeLlm.requests).toHaveLength(0);

    await client.close();
    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT s.*, f.number AS from_number, o.number AS to_number
         FROM call_sessions s
         LEFT JOIN phone_numbers f ON f.id = s.from_number_id
         LEFT JOIN phone_numbers o ON o.id = s.to_number_id
         WHERE s.session_id = 'flow-greeting'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        agent_id: 'agent-a',
        call_sid: 'CA123',
        metadata: { customer: 'Ada', plan: 'gold' },
        from_number: '+15550100',
        to_number: '+15550199',
        status: 'ended',
        end_reason: 'connection_closed',
        close_code: 1000,
      });
      expect(rows[0].ended_at.getTime()).toBeGreaterThanOrEqual(rows[0].started_at.getTime());
    });
    // Sessions and exchanges are written by separate statements: the exchange may land just after.
    await eventually(async () => {
      const [greeting] = await exchanges('flow-greeting');
      expect(greeting).toMatchObject({
        stream_id: 7,
        kind: 'greeting',
        status: 'completed',
        response_text: 'Hello Ada, thanks for calling How can I help?',
        transcript: [],
      });
    });
  });

  it('streams each reply token by token from the LLM and records the exchange', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'flow-reply', metadata: { customer: 'Grace' } });
    await client.waitForEnd(0);

    const transcript = [
      { role: 'assistant' as const, content: 'Hello Grace, thanks for calling How can I help?' },
      { role: 'user' as const, content: 'What are your opening hours' },
    ];
    client.streamRequest(1, transcript);
    const text = await client.waitForEnd(1);

    expect(text).toBe('You said: What are your opening hours.');
    const pieces = client.responses(1);
    expect(pieces.length).toBeGreaterThan(4);
    expect(pieces.slice(0, -1).every((p) => !p.end_of_stream)).toBe(true);

    const [request] = t.fakeLlm.requests;
    const body = request.body as { model: string; stream: boolean; messages: Array<{ role: string; content: string }> };
    expect(body.model).toBe('fake-model');
    expect(body.stream).toBe(true);
    expect(body.messages[0].role).toBe('system');
    expect(body.messages.slice(1)).toEqual(transcript);

    await eventually(async () => {
      const rows = await exchanges('flow-reply');
      expect(rows).toHaveLength(2);
      expect(rows[1]).toMatchObject({
        stream_id: 1,
        kind: 'reply',
        status: 'completed',
        transcript,
        response_text: text,
        model: 'fake-model',
        error: null,
      });
      expect(rows[1].completion_tokens).toBeGreaterThan(0);
      expect(rows[1].first_token_at).not.toBeNull();
      expect(rows[1].completed_at.getTime()).toBeGreaterThanOrEqual(rows[1].first_token_at.getTime());
    });
    await client.close();
  });

  it('aborts the upstream request on interrupt and sends nothing more for that stream', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'flow-interrupt' });
    await client.waitForEnd(0);

    t.fakeLlm.enqueue({ kind: 'text', tokenCount: 200, tokenDelayMs: 20 });
    client.streamRequest(1, [{ role: 'user', content: 'Tell me a long story' }]);
    await client.waitUntil(() => client.responses(1).length >= 3, 5000, 'first tokens');
    client.interrupt(1);

    const aborted = await t.fakeLlm.waitForAbort(0);
    expect(aborted.tokensWritten).toBeLessThan(200);
    const countAtInterrupt = client.responses(1).length;
    await client.settle(200);
    expect(client.responses(1).length).toBeLessThanOrEqual(countAtInterrupt + 1);
    expect(client.responses(1).some((p) => p.end_of_stream)).toBe(false);

    await eventually(async () => {
      const rows = await exchanges('flow-interrupt');
      expect(rows[1]).toMatchObject({ stream_id: 1, status: 'interrupted' });
      expect(rows[1].response_text).toBe(client.textOf(1));
      expect(rows[1].response_text.length).toBeGreaterThan(0);
      const { rows: events } = await t.db.query(
        `SELECT ev.type, ev.stream_id FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id WHERE s.session_id = 'flow-interrupt'`,
      );
      expect(events).toEqual([{ type: 'interrupt', stream_id: 1 }]);
    });

    // The call goes on.
    client.streamRequest(2, [{ role: 'user', content: 'Never mind' }]);
    expect(await client.waitForEnd(2)).toBe('You said: Never mind.');
    await client.close();
  });

  it('supersedes a reply still streaming when a newer stream_request arrives', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'flow-supersede' });
    await client.waitForEnd(0);

    t.fakeLlm.enqueue({ kind: 'text', tokenCount: 200, tokenDelayMs: 20 });
    client.streamRequest(1, [{ role: 'user', content: 'First question' }]);
    await client.waitUntil(() => client.responses(1).length >= 2, 5000, 'first tokens');
    client.streamRequest(2, [{ role: 'user', content: 'Second question' }]);

    await t.fakeLlm.waitForAbort(0);
    expect(await client.waitForEnd(2)).toBe('You said: Second question.');
    const indexOfFirstStream2 = client.received.findIndex(
      (f) => f.type === 'stream_response' && f.data.stream_id === 2,
    );
    const laterStream1 = client.received
      .slice(indexOfFirstStream2)
      .filter((f) => f.type === 'stream_response' && f.data.stream_id === 1);
    expect(laterStream1).toEqual([]);

    await eventually(async () => {
      const rows = await exchanges('flow-supersede');
      expect(rows.map((r) => [r.stream_id, r.status])).toEqual([
        [0, 'completed'],
        [1, 'superseded'],
        [2, 'completed'],
      ]);
    });
    await client.close();
  });

  it('records partial transcripts and playback ends, and ignores a stale stream_request', async () => {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: 'flow-events', stream_id: 3 });
    await client.waitForEnd(3);
    client.send({
      type: 'partial_transcript',
      data: { session_id: 'flow-events', transcript: 'I would', is_final: false },
    });
    client.send({ type: 'playback_finished', data: { session_id: 'flow-events', stream_id: 3 } });
    client.streamRequest(2, [{ role: 'user', content: 'late' }]);
    await client.settle();
    expect(client.responses(2)).toEqual([]);
    expect(t.fakeLlm.requests).toHaveLength(0);

    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT ev.type, ev.stream_id, ev.payload FROM call_events ev JOIN call_sessions s ON s.id = ev.call_session_id
         WHERE s.session_id = 'flow-events' ORDER BY ev.received_at`,
      );
      expect(rows.map((r) => [r.type, r.stream_id])).toEqual([
        ['partial_transcript', null],
        ['playback_finished', 3],
        ['stale_stream_request', 2],
      ]);
      expect(rows[0].payload).toMatchObject({ transcript: 'I would', is_final: false });
    });
    await client.close();
  });

  it('continues the same session row when the platform reconnects with the same session_id', async () => {
    const first = await MillisPlatformClient.connect(t.wsUrl);
    first.startCall({ session_id: 'flow-reconnect' });
    await first.waitForEnd(0);
    await first.close();
    const second = await MillisPlatformClient.connect(t.wsUrl);
    second.startCall({ session_id: 'flow-reconnect', stream_id: 5 });
    await second.waitForEnd(5);
    await second.close();

    await eventually(async () => {
      const { rows } = await t.db.query(`SELECT status FROM call_sessions WHERE session_id = 'flow-reconnect'`);
      expect(rows).toEqual([{ status: 'ended' }]);
      expect(await exchanges('flow-reconnect')).toHaveLength(2);
    });
  });
});

describe('A greeting generated by the LLM', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { SYSTEM_PROMPT: 'You help {{customer}} (agent {{agent_id}}, caller {{voip.to}}).' },
    });
  });
  afterAll(() => t.close());

  it('asks the model for a greeting with the metadata in the system prompt', async () => {
    t.fakeLlm.enqueue({ kind: 'text', text: 'Hi Linus, how can I help you today?' });
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({
      session_id: 'llm-greeting',
      agent_id: 'sales',
      metadata: { customer: 'Linus' },
      voip: { from: '+1', to: '+2' },
    });

    expect(await client.waitForEnd(0)).toBe('Hi Linus, how can I help you today?');
    const messages = (t.fakeLlm.requests[0].body as { messages: Array<{ role: string; content: string }> }).messages;
    expect(messages[0]).toEqual({ role: 'system', content: 'You help Linus (agent sales, caller +2).' });
    expect(messages[1]).toEqual({ role: 'user', content: t.config.call.greetingPrompt });
    await client.close();

    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT e.kind, e.status, e.model FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id WHERE s.session_id = 'llm-greeting'`,
      );
      expect(rows).toEqual([{ kind: 'greeting', status: 'completed', model: 'fake-model' }]);
    });
  });
});
