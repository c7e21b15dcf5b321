import { messageText } from '../../../dev/fake-llm/fake-llm-scenario';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { exchangeRows, registerSlowTool, SlowToolProbe } from './tool-test-kit';

const FILLER = 'One moment while I check.';

describe('Tool calls in a streamed turn', () => {
  let t: TestApp;
  let slow: SlowToolProbe;
  /** Same, but with its own long timeout: only an interrupt stops it. */
  let long: SlowToolProbe;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        GREETING: 'Hello.',
        AGENT_TOOLS: 'check_availability,book_slot,slow_lookup,long_lookup',
        TOOL_TIMEOUT_MS: '1000',
        // Well above a fast tool's round on a loaded machine, well below the slow tool's timeout.
        TOOL_FILLER_AFTER_MS: '300',
      },
    });
    slow = registerSlowTool(t);
    long = registerSlowTool(t, 'long_lookup', 30_000);
    await t.db.query('DELETE FROM appointments');
  });
  afterAll(() => t.close());
  beforeEach(() => t.fakeLlm.reset());

  async function callWithQuestion(sessionId: string, question: string): Promise<MillisPlatformClient> {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: sessionId });
    await client.waitForEnd(0);
    client.streamRequest(1, [
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: question },
    ]);
    return client;
  }

  const toolMessages = (index: number) =>
    (t.fakeLlm.requests[index].body.messages ?? []).filter((m) => m.role === 'tool');

  it('runs a tool, feeds its result back and streams the answer; later turns see the call and result', async () => {
    t.fakeLlm.enqueue(
      { kind: 'tool_calls', calls: [{ name: 'check_availability', arguments: { date: '2030-01-07' } }] },
      { kind: 'text', text: 'Monday is wide open.' },
    );
    const client = await callWithQuestion('tools-single', 'Is Monday free?');

    expect(await client.waitForEnd(1)).toBe('Monday is wide open.');
    const [first, second] = t.fakeLlm.requests;
    expect((first.body.tools as Array<{ function: { name: string } }>).map((tool) => tool.function.name)).toEqual([
      'check_availability',
      'book_slot',
      'slow_lookup',
      'long_lookup',
    ]);
    const assistant = second.body.messages!.at(-2) as {
      role: string;
      tool_calls: Array<{ id: string; function: { name: string; arguments: string } }>;
    };
    expect(assistant.role).toBe('assistant');
    expect(assistant.tool_calls[0].function).toEqual({
      name: 'check_availability',
      arguments: '{"date":"2030-01-07"}',
    });
    const [result] = toolMessages(1);
    expect(result.tool_call_id).toBe(assistant.tool_calls[0].id);
    expect(JSON.parse(result.content as string)).toEqual({
      date: '2030-01-07',
      free: expect.arrayContaining(['09:00', '16:30']),
    });
    // A fast tool: no filler.
    expect(client.textOf(1)).not.toContain(FILLER);

    // The next turn: the tool call and its result come back after the question they answered.
    t.fakeLlm.enqueue({ kind: 'text', text: 'Booked.' });
    client.streamRequest(2, [
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Is Monday free?' },
      { role: 'assistant', content: 'Monday is wide open.' },
      { role: 'user', content: 'Great.' },
    ]);
    await client.waitForEnd(2);
    const roles = t.fakeLlm.requests[2].body.messages!.map((m) =>
      m.tool_calls ? 'tool_calls' : `${m.role}:${messageText(m)}`,
    );
    expect(roles).toEqual([
      expect.stringMatching(/^system:/),
      'assistant:Hello.',
      'user:Is Monday free?',
      'tool_calls',
      expect.stringMatching(/^tool:/),
      'assistant:Monday is wide open.',
      'user:Great.',
    ]);

    await client.close();
    await eventually(async () => {
      const [, reply] = await exchangeRows(t, 'tools-single');
      expect(reply.status).toBe('completed');
      expect(reply.tool_calls).toEqual([
        expect.objectContaining({
          name: 'check_availability',
          arguments: { date: '2030-01-07' },
          status: 'ok',
          round: 0,
          duration_ms: expect.any(Number),
        }),
      ]);
      expect(reply.tool_calls[0].result.free).toHaveLength(16);
    });
  });

  it('runs parallel tool calls and returns every result with its id, in order', async () => {
    t.fakeLlm.enqueue(
      {
        kind: 'tool_calls',
        calls: [
          { name: 'check_availability', arguments: { date: '2030-01-07' } },
          { name: 'check_availability', arguments: { date: '2030-01-08' } },
        ],
      },
      { kind: 'text', text: 'Both days are free.' },
    );
    const client = await callWithQuestion('tools-parallel', 'Monday or Tuesday?');

    expect(await client.waitForEnd(1)).toBe('Both days are free.');
    const calls = (
      t.fakeLlm.requests[1].body.messages!.find((m) => m.tool_calls)!.tool_calls as Array<{ id: string }>
    ).map((c) => c.id);
    const results = toolMessages(1);
    expect(results.map((r) => r.tool_call_id)).toEqual(calls);
    expect(results.map((r) => JSON.parse(r.content as string).date)).toEqual(['2030-01-07', '2030-01-08']);
    await client.close();
  });

  it('sends invalid arguments back to the model as a tool error, and the next round answers', async () => {
    t.fakeLlm.enqueue(
      { kind: 'tool_calls', calls: [{ name: 'book_slot', arguments: { date: 'tomorrow', time: '9am', extra: 1 } }] },
      { kind: 'text', text: 'Which day exactly?' },
    );
    const client = await callWithQuestion('tools-invalid', 'Book me tomorrow at nine.');

    expect(await client.waitForEnd(1)).toBe('Which day exactly?');
    const { error } = JSON.parse(toolMessages(1)[0].content as string);
    expect(error).toMatch(/^invalid arguments: /);
    expect(error).toContain('date must be YYYY-MM-DD');
    expect(error).toContain('time must be HH:MM');
    expect(error).toContain('property extra should not exist');
    await client.close();
    await eventually(async () => {
      const [, reply] = await exchangeRows(t, 'tools-invalid');
      expect(reply.tool_calls[0]).toMatchObject({
        name: 'book_slot',
        status: 'invalid_arguments',
        error: expect.stringContaining('date must be'),
      });
      expect(reply.status).toBe('completed');
    });
  });

  it('times a slow tool out (its signal fires), says the filler with flush meanwhile, and tells the model', async () => {
    const abortedBefore = slow.aborted;
    t.fakeLlm.enqueue(
      { kind: 'tool_calls', calls: [{ name: 'slow_lookup', arguments: { ms: 5000 } }] },
      { kind: 'text', text: 'That took too long, sorry.' },
    );
    const client = await callWithQuestion('tools-timeout', 'Look it up.');

    expect(await client.waitForEnd(1)).toBe(`${FILLER} That took too long, sorry.`);
    expect(client.responses(1)[0]).toEqual({ stream_id: 1, content: `${FILLER} `, end_of_stream: false, flush: true });
    expect(slow.aborted).toBe(abortedBefore + 1);
    expect(JSON.parse(toolMessages(1)[0].content as string)).toEqual({ error: 'timed out after 1000 ms' });
    await client.close();
    await eventually(async () => {
      const [, reply] = await exchangeRows(t, 'tools-timeout');
      expect(reply.tool_calls[0]).toMatchObject({ status: 'timeout', duration_ms: expect.any(Number) });
      expect(reply.tool_calls[0].duration_ms).toBeGreaterThanOrEqual(290);
    });
  });

  it('an interrupt during a tool cancels it and the turn: no more frames, and the history gets a cancelled result', async () => {
    t.fakeLlm.enqueue({
      kind: 'tool_calls',
      calls: [
        { name: 'long_lookup', arguments: { ms: 20_000 } },
        { name: 'check_availability', arguments: { date: '2030-01-07' } },
      ],
    });
    const client = await callWithQuestion('tools-interrupt', 'Look it up.');
    await client.waitUntil(() => client.textOf(1).includes(FILLER), 5000, 'the filler');

    client.interrupt(1);
    await eventually(() => expect(long.aborted).toBe(1));
    expect(long.lastReason).toBe('interrupted');
    const framesAtInterrupt = client.received.length;
    await client.settle(400);
    expect(client.received.length).toBe(framesAtInterrupt);
    expect(client.responses(1).some((d) => d.end_of_stream)).toBe(false);
    expect(t.fakeLlm.requests).toHaveLength(1);

    // The next turn sees the calls, the finished one with its result and the cancelled one as cancelled.
    t.fakeLlm.enqueue({ kind: 'text', text: 'Sure.' });
    client.streamRequest(2, [
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Look it up.' },
      { role: 'assistant', content: FILLER },
      { role: 'user', content: 'Never mind.' },
    ]);
    await client.waitForEnd(2);
    const results = toolMessages(1);
    expect(results).toHaveLength(2);
    expect(results[0].content).toBe('{"error":"cancelled"}');
    expect(JSON.parse(results[1].content as string).date).toBe('2030-01-07');
    await client.close();
    await eventually(async () => {
      const [, interrupted] = await exchangeRows(t, 'tools-interrupt');
      expect(interrupted.status).toBe('interrupted');
      expect(interrupted.tool_calls.map((c: { status: string }) => c.status)).toEqual(['cancelled', 'ok']);
    });
  });

  it('books a slot through the example extension, in its own table', async () => {
    t.fakeLlm.enqueue(
      {
        kind: 'tool_calls',
        calls: [{ name: 'book_slot', arguments: { date: '2030-01-09', time: '10:30', name: 'Ada' } }],
      },
      { kind: 'text', text: 'You are booked.' },
      {
        kind: 'tool_calls',
        calls: [{ name: 'book_slot', arguments: { date: '2030-01-09', time: '10:30', name: 'Grace' } }],
      },
      { kind: 'text', text: 'That slot is taken.' },
    );
    const client = await callWithQuestion('tools-book', 'Book Wednesday 10:30 for Ada.');
    expect(await client.waitForEnd(1)).toBe('You are booked.');
    const { rows } = await t.db.query(
      `SELECT name, session_id, to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at FROM appointments`,
    );
    expect(rows).toEqual([{ name: 'Ada', session_id: 'tools-book', at: '2030-01-09 10:30' }]);

    client.streamRequest(2, [{ role: 'user', content: 'And the same for Grace.' }]);
    expect(await client.waitForEnd(2)).toBe('That slot is taken.');
    expect(JSON.parse(toolMessages(3)[0].content as string)).toEqual({
      error: '2030-01-09 10:30 is already taken; check availability again',
    });
    await client.close();
  });

  it('refuses a tool the agent was not offered', async () => {
    t.fakeLlm.enqueue(
      { kind: 'tool_calls', calls: [{ name: 'transfer_call', arguments: { destination: 'sales' } }] },
      { kind: 'text', text: 'I cannot transfer you.' },
    );
    const client = await callWithQuestion('tools-not-offered', 'Transfer me.');

    expect(await client.waitForEnd(1)).toBe('I cannot transfer you.');
    expect(JSON.parse(toolMessages(1)[0].content as string)).toEqual({
      error: 'no tool named "transfer_call" is available',
    });
    expect(client.received.some((f) => f.type === 'transfer_call')).toBe(false);
    await client.close();
  });
});
