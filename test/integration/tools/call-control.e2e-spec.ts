import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { exchangeRows, sessionRow } from './tool-test-kit';

describe('Call control tools: end_call and transfer_call', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        GREETING: 'Hello.',
        AGENT_TOOLS: 'end_call,transfer_call',
        TRANSFER_DESTINATIONS: 'sales=+15550100,support=sip:help@pbx.example.com',
        FAREWELL_MESSAGE: 'Goodbye from {{metadata.shop}}!',
      },
    });
  });
  afterAll(() => t.close());
  beforeEach(() => t.fakeLlm.reset());

  async function callWithQuestion(sessionId: string, question: string): Promise<MillisPlatformClient> {
    const client = await MillisPlatformClient.connect(t.wsUrl);
    client.startCall({ session_id: sessionId, metadata: { shop: 'Acme' } });
    await client.waitForEnd(0);
    client.streamRequest(1, [{ role: 'user', content: question }]);
    return client;
  }

  it('end_call: speaks the farewell, ends the stream, then sends end_call; end_reason is end_call', async () => {
    t.fakeLlm.enqueue({ kind: 'tool_calls', calls: [{ name: 'end_call', arguments: {} }] });
    const client = await callWithQuestion('control-end', "That's all, bye.");

    await client.waitUntil(() => client.received.some((f) => f.type === 'end_call'), 5000, 'end_call');
    const frames = client.received.filter((f) => f.type !== 'stream_response' || f.data.stream_id === 1);
    expect(frames.map((f) => f.type)).toEqual(['stream_response', 'stream_response', 'end_call']);
    expect(frames[0]).toEqual({
      type: 'stream_response',
      data: { stream_id: 1, content: 'Goodbye from Acme!', end_of_stream: false },
    });
    expect(frames[1]).toEqual({
      type: 'stream_response',
      data: { stream_id: 1, content: '', end_of_stream: true, flush: true },
    });
    expect(frames[2]).toEqual({ type: 'end_call', data: { stream_id: 1 } });
    // The model is not asked again after end_call.
    await client.settle(100);
    expect(t.fakeLlm.requests).toHaveLength(1);

    await client.close();
    await eventually(async () => {
      expect(await sessionRow(t, 'control-end')).toMatchObject({ status: 'ended', end_reason: 'end_call' });
      const [, reply] = await exchangeRows(t, 'control-end');
      expect(reply).toMatchObject({ status: 'completed', response_text: 'Goodbye from Acme!' });
      expect(reply.tool_calls).toEqual([expect.objectContaining({ name: 'end_call', status: 'ok' })]);
    });
  });

  it("end_call with the model's own farewell says that instead", async () => {
    t.fakeLlm.enqueue({
      kind: 'tool_calls',
      calls: [{ name: 'end_call', arguments: { farewell: 'Have a lovely day.' } }],
    });
    const client = await callWithQuestion('control-end-own', 'Bye.');

    await client.waitUntil(() => client.received.some((f) => f.type === 'end_call'), 5000, 'end_call');
    expect(client.textOf(1)).toBe('Have a lovely day.');
    await client.close();
  });

  it('transfer_call: offers destination names only, sends the configured number after end_of_stream; end_reason is transfer_call', async () => {
    t.fakeLlm.enqueue({
      kind: 'tool_calls',
      text: 'Let me put you through to sales.',
      calls: [{ name: 'transfer_call', arguments: { destination: 'sales' } }],
    });
    const client = await callWithQuestion('control-transfer', 'I want to buy.');

    await client.waitUntil(() => client.received.some((f) => f.type === 'transfer_call'), 5000, 'transfer_call');
    const tools = t.fakeLlm.requests[0].body.tools as Array<{
      function: { name: string; description: string; parameters: { properties: Record<string, { enum?: string[] }> } };
    }>;
    const transfer = tools.find((tool) => tool.function.name === 'transfer_call')!.function;
    expect(transfer.parameters.properties.destination.enum).toEqual(['sales', 'support']);
    expect(JSON.stringify(tools)).not.toContain('+15550100');

    expect(client.textOf(1)).toBe('Let me put you through to sales.');
    const last = client.received.slice(-2);
    expect(last[0]).toMatchObject({ type: 'stream_response', data: { stream_id: 1, end_of_stream: true } });
    expect(last[1]).toEqual({ type: 'transfer_call', data: { stream_id: 1, destination: '+15550100' } });

    await client.close();
    await eventually(async () =>
      expect(await sessionRow(t, 'control-transfer')).toMatchObject({ end_reason: 'transfer_call' }),
    );
  });

  it('never transfers to a number the model made up: it gets an error and the call goes on', async () => {
    t.fakeLlm.enqueue(
      { kind: 'tool_calls', calls: [{ name: 'transfer_call', arguments: { destination: '+19995550000' } }] },
      { kind: 'text', text: 'I can transfer you to sales or support.' },
    );
    const client = await callWithQuestion('control-transfer-bad', 'Transfer me to +1 999 555 0000.');

    expect(await client.waitForEnd(1)).toBe('I can transfer you to sales or support.');
    const result = t.fakeLlm.requests[1].body.messages!.find((m) => m.role === 'tool')!;
    expect(JSON.parse(result.content as string).error).toBe(
      'unknown destination "+19995550000"; choose one of: sales, support',
    );
    expect(client.received.some((f) => f.type === 'transfer_call')).toBe(false);

    await client.close();
    await eventually(async () =>
      expect(await sessionRow(t, 'control-transfer-bad')).toMatchObject({ end_reason: 'connection_closed' }),
    );
  });
});
