import OpenAI, { APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import { FAKE_DIALECTS, FakeDialect, FakeLlmServer, tokenize } from '../../../dev/fake-llm/fake-llm-server';

const MODEL = 'fake-model';

function params(
  content: string,
  extra: Partial<ChatCompletionCreateParamsStreaming> = {},
): ChatCompletionCreateParamsStreaming {
  return { model: MODEL, stream: true, messages: [{ role: 'user', content }], ...extra };
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const contentOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
const contentChunks = (chunks: ChatCompletionChunk[]) => chunks.filter((c) => c.choices[0]?.delta.content);
const finishReasons = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean);

describe('FakeLlmServer with the openai client', () => {
  const server = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
  let client: OpenAI;

  beforeAll(async () => {
    client = new OpenAI({ baseURL: await server.start(), apiKey: 'test', maxRetries: 0 });
  });
  afterEach(() => server.reset());
  afterAll(() => server.stop());

  it('streams the reply in several chunks', async () => {
    server.enqueue({ kind: 'text', text: 'Hello there. How are you?' });
    const chunks = await collect(await client.chat.completions.create(params('hi')));

    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(contentChunks(chunks)).toHaveLength(tokenize('Hello there. How are you?').length);
    expect(contentOf(chunks)).toBe('Hello there. How are you?');
    expect(finishReasons(chunks)).toEqual(['stop']);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === MODEL)).toBe(true);

    const [record] = server.requests;
    expect(record).toMatchObject({ id: chunks[0].id, finished: true, aborted: false, tokensWritten: 7 });
    expect(record.body.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(record.headers.authorization).toBe('Bearer test');
    expect(record.firstTokenWrittenAt! - record.receivedAt).toBeGreaterThanOrEqual(4);
    expect(record.tokenWrittenAt).toHaveLength(7);
  });

  it('echoes the last user message by default', async () => {
    const chunks = await collect(await client.chat.completions.create(params('what time is it')));
    expect(contentOf(chunks)).toBe('You said: what time is it.');

    const greeting = await client.chat.completions.create({
      model: MODEL,
      stream: true,
      messages: [{ role: 'system', content: 'be nice' }],
    });
    expect(contentOf(await collect(greeting))).toBe('Hello! How can I help you today?');
  });

  it('answers like a support line in conversation style, never repeating the greeting instructions', async () => {
    server.setOptions({ replyStyle: 'conversation' });
    try {
      const instructions = 'The call has just connected. Greet the caller in one short sentence and offer your help.';
      const greeting = contentOf(
        await collect(
          await client.chat.completions.create({
            model: MODEL,
            stream: true,
            messages: [
              { role: 'system', content: 'You are a friendly voice assistant.' },
              { role: 'user', content: instructions },
            ],
          }),
        ),
      );
      expect(greeting).toMatch(/^Hello\b.*\?$/);
      expect(greeting).not.toContain('offer your help');

      const conversation = (said: string) =>
        client.chat.completions.create({
          model: MODEL,
          stream: true,
          messages: [
            { role: 'system', content: 'You are a friendly voice assistant.' },
            { role: 'assistant', content: greeting },
            { role: 'user', content: said },
          ],
        });
      const hours = contentOf(await collect(await conversation('When are you open on Saturday?')));
      expect(hours).toContain('Saturdays');
      const other = contentOf(await collect(await conversation('My parrot speaks Latin')));
      expect(other).not.toContain('parrot');
      // Long enough to be interrupted at a human pace.
      expect(tokenize(other).length).toBeGreaterThanOrEqual(15);
      // Directives still steer the reply.
      expect(contentChunks(await collect(await conversation('go [fake:tokens 3]')))).toHaveLength(3);
    } finally {
      server.setOptions({ replyStyle: 'echo' });
    }
  });

  it('uses the configured default reply and per-scenario tokens', async () => {
    server.setOptions({ defaultReply: 'Fixed answer.' });
    try {
      expect(contentOf(await collect(await client.chat.completions.create(params('x'))))).toBe('Fixed answer.');
    } finally {
      server.setOptions({ defaultReply: undefined });
    }
    server.enqueue({ kind: 'text', tokens: ['a', 'b', 'c'] });
    const chunks = await collect(await client.chat.completions.create(params('x')));
    expect(contentChunks(chunks).map((c) => c.choices[0].delta.content)).toEqual(['a', 'b', 'c']);
  });

  it('sends a usage chunk when asked', async () => {
    server.enqueue({ kind: 'text', text: 'One two three.' });
    const chunks = await collect(
      await client.chat.completions.create(
        params('count my words please', { stream_options: { include_usage: true } }),
      ),
    );
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
  });

  it('streams parallel tool calls whose arguments reassemble', async () => {
    const weather = { city: 'Paris', unit: 'celsius', note: 'split me into pieces' };
    server.enqueue({
      kind: 'tool_calls',
      text: 'Let me check.',
      calls: [
        { name: 'get_weather', arguments: weather },
        { name: 'get_time', arguments: '{"tz":"Europe/Paris"}' },
      ],
    });
    const chunks = await collect(await client.chat.completions.create(params('weather and time?')));

    const calls: Array<{ id?: string; type?: string; name?: string; args: string; deltas: number }> = [];
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = (calls[delta.index] ??= { args: '', deltas: 0 });
        call.id ??= delta.id;
        call.type ??= delta.type;
        call.name ??= delta.function?.name;
        call.args += delta.function?.arguments ?? '';
        call.deltas++;
      }
    }
    expect(contentOf(chunks)).toBe('Let me check.');
    expect(finishReasons(chunks)).toEqual(['tool_calls']);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ type: 'function', name: 'get_weather' });
    expect(calls[1]).toMatchObject({ type: 'function', name: 'get_time', args: '{"tz":"Europe/Paris"}' });
    expect(JSON.parse(calls[0].args)).toEqual(weather);
    for (const call of calls) {
      expect(call.id).toMatch(/^call_\w+$/);
      expect(call.deltas).toBeGreaterThanOrEqual(3); // header delta + at least two argument pieces
    }
    expect(calls[0].id).not.toBe(calls[1].id);
  });

  it('rejects create() with an APIError for an error scenario', async () => {
    server.enqueue({ kind: 'error', status: 500, message: 'boom' });
    const error = await client.chat.completions.create(params('hi')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(500);
    expect((error as APIError).message).toContain('boom');
    expect(server.requests[0].finished).toBe(true);
  });

  it('cut: the stream loop throws after the tokens sent, with no finish_reason', async () => {
    server.enqueue({ kind: 'cut', afterTokens: 3, text: 'One two three four five.' });
    const stream = await client.chat.completions.create(params('hi'));
    const chunks: ChatCompletionChunk[] = [];
    const error = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );

    // The client does not wrap this: undici's fetch body fails with "terminated".
    // (compared by name: jest's sandbox has its own TypeError)
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(contentOf(chunks)).toBe('One two three');
    expect(finishReasons(chunks)).toEqual([]);
    expect(server.requests[0]).toMatchObject({ finished: false, aborted: false, tokensWritten: 3 });
  });

  it('hang: an aborted request is recorded as aborted', async () => {
    server.enqueue({ kind: 'hang', afterTokens: 1 });
    const controller = new AbortController();
    const stream = await client.chat.completions.create(params('hi'), { signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.choices[0].delta.role).toBe('assistant');
    expect((await iterator.next()).value?.choices[0].delta.content).toBeTruthy();

    const pending = iterator.next();
    controller.abort();
    // The client treats its own abort as a normal end of the stream.
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    const record = await server.waitForAbort(0, 2000);
    expect(record).toMatchObject({ aborted: true, finished: false, tokensWritten: 1 });
  });

  it('answers a non-streaming request with a chat.completion', async () => {
    server.enqueue({ kind: 'text', text: 'All in one go.' });
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: MODEL,
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'All in one go.' } }],
      usage: { prompt_tokens: 1, completion_tokens: 5, total_tokens: 6 },
    });
    expect(server.requests[0]).toMatchObject({ id: completion.id, finished: true, tokensWritten: 5 });
  });

  describe('directives in the last user message', () => {
    it('[fake:tokens N] streams exactly N word tokens', async () => {
      const chunks = await collect(await client.chat.completions.create(params('go [fake:tokens 30]')));
      expect(contentChunks(chunks)).toHaveLength(30);
      expect(contentChunks(chunks)[29].choices[0].delta.content).toBe('word30 ');
    });

    it('[fake:error 503] fails the request', async () => {
      const error = await client.chat.completions.create(params('[fake:error 503]')).catch((e: unknown) => e);
      expect((error as APIError).status).toBe(503);
    });

    it('[fake:tool] returns a tool call', async () => {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'book it [fake:tool book {"seats":2}]' }],
      });
      const [call] = completion.choices[0].message.tool_calls ?? [];
      expect(call.type === 'function' && call.function).toEqual({ name: 'book', arguments: '{"seats":2}' });
    });

    it('[fake:cut N] cuts the stream after N tokens', async () => {
      const stream = await client.chat.completions.create(params('hello there [fake:cut 3]'));
      await expect(collect(stream)).rejects.toThrow('terminated');
      expect(server.requests[0].tokensWritten).toBe(3);
    });

    it('only the last user message counts, and queued scenarios win', async () => {
      const older = await client.chat.completions.create({
        model: MODEL,
        stream: true,
        messages: [
          { role: 'user', content: '[fake:error 500]' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'fine' },
        ],
      });
      expect(contentOf(await collect(older))).toBe('You said: fine.');

      server.enqueue({ kind: 'text', text: 'queued' });
      expect(contentOf(await collect(await client.chat.completions.create(params('[fake:error 500]'))))).toBe('queued');
    });
  });

  it('uses the responder when the queue is empty, queue first', async () => {
    server.setResponder((req) => ({ kind: 'text', text: `responder saw ${req.body.messages?.length} message` }));
    server.enqueue({ kind: 'text', text: 'from queue' });
    expect(contentOf(await collect(await client.chat.completions.create(params('a'))))).toBe('from queue');
    expect(contentOf(await collect(await client.chat.completions.create(params('b'))))).toBe('responder saw 1 message');
    await expect(server.waitForRequests(2, 100)).resolves.toHaveLength(2);
    await expect(server.waitForRequests(3, 50)).rejects.toThrow('Timed out');
  });

  it('serves /v1/models, 404s unknown paths and 400s bad JSON', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['fake-model']);

    const notFound = await fetch(`${server.baseUrl}/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { type: 'invalid_request_error' } });

    const bad = await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: expect.any(String), type: 'invalid_request_error' } });

    const unprefixed = await fetch(server.baseUrl.replace(/\/v1$/, '/chat/completions'), {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(unprefixed.status).toBe(200);
  });

  it('stop() does not hang on an open stream', async () => {
    const other = new FakeLlmServer({ firstTokenDelayMs: 0, tokenDelayMs: 0 });
    const otherClient = new OpenAI({ baseURL: await other.start(), apiKey: 'test', maxRetries: 0 });
    other.enqueue({ kind: 'hang' });
    const stream = await otherClient.chat.completions.create(params('hi'));
    const consumed = collect(stream).catch((e: unknown) => e);
    await other.stop();
    await consumed;
    expect(other.requests[0]).toMatchObject({ aborted: false, finished: false });
  });
});

/** A chunk as a dialect writes it, as far as these tests read it: taken on trust, the tests check which fields each dialect sends. */
interface DialectChunk {
  choices: Array<{
    delta: {
      role?: string;
      content?: string | null;
      reasoning?: string;
      reasoning_content?: string;
      tool_calls?: Array<{ index?: number; id?: string; function: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage: { completion_tokens: number };
}

describe('FakeLlmServer dialects, on the wire', () => {
  const server = new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 1 });

  beforeAll(() => server.start());
  afterEach(() => server.reset());
  afterAll(() => server.stop());

  /** The raw SSE text of one streamed request. */
  async function raw(
    dialect: FakeDialect,
    scenario: Parameters<FakeLlmServer['enqueue']>[0],
    extra: object = {},
  ): Promise<string> {
    server.setOptions({ dialect });
    server.enqueue(scenario);
    const response = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({
        model: MODEL,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
        ...extra,
      }),
    });
    return response.text();
  }
  const events = (text: string) =>
    text
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'))
      .map((frame) => JSON.parse(frame.slice(6)) as DialectChunk);

  it('azure: a first chunk with no choices but prompt filter results, filter results on every choice, and an annotation chunk with no delta', async () => {
    const chunks = events(await raw('azure', { kind: 'text', text: 'Hi there.' }));
    expect(chunks[0]).toMatchObject({ choices: [], model: '', id: '', prompt_filter_results: [{ prompt_index: 0 }] });
    expect(chunks[1].choices[0]).toMatchObject({
      delta: { role: 'assistant' },
      content_filter_results: { hate: { filtered: false } },
    });
    const annotation = chunks.find((c) => c.choices[0] && !('delta' in c.choices[0]));
    expect(annotation?.choices[0]).toMatchObject({ content_filter_offsets: expect.any(Object) });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
  });

  it('vllm: reasoning deltas first, running usage on every chunk, finish on the last token, interleaved tool calls', async () => {
    const chunks = events(await raw('vllm', { kind: 'text', text: 'Hi there.', reasoning: 'Greet back.' }));
    expect(
      chunks
        .filter((c) => c.choices[0]?.delta?.reasoning)
        .map((c) => c.choices[0].delta.reasoning)
        .join(''),
    ).toBe('Greet back.');
    expect(chunks.every((c) => c.usage)).toBe(true);
    expect(chunks.map((c) => c.usage.completion_tokens)).toEqual(
      [...chunks.map((c) => c.usage.completion_tokens)].sort((a, b) => a - b),
    );
    const last = chunks.at(-1)!;
    expect(last.choices[0]).toMatchObject({ delta: { content: '.' }, finish_reason: 'stop' });

    const tools = events(
      await raw('vllm', {
        kind: 'tool_calls',
        reasoning: '',
        calls: [
          { name: 'a', arguments: { x: 'one two three' } },
          { name: 'b', arguments: { y: 'four five six' } },
        ],
      }),
    );
    const order = tools.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).map((t) => t.index);
    expect(order.slice(0, 4)).toEqual([0, 1, 0, 1]);
  });

  it('ollama: no role chunk of its own, each tool call whole and every one at index 0', async () => {
    const chunks = events(
      await raw('ollama', {
        kind: 'tool_calls',
        reasoning: '',
        calls: [
          { name: 'a', arguments: {} },
          { name: 'b', arguments: { q: 1 } },
        ],
      }),
    );
    const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'a', arguments: '{}' } },
      {
        index: 0,
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'b', arguments: '{"q":1}' },
      },
    ]);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
  });

  it('gemini: tool calls without index, usage with hidden reasoning tokens on the finishing chunk', async () => {
    const chunks = events(await raw('gemini', { kind: 'tool_calls', calls: [{ name: 'a', arguments: { q: 1 } }] }));
    const [call] = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(call).not.toHaveProperty('index');
    const finishing = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finishing).toMatchObject({
      choices: [{ finish_reason: 'tool_calls' }],
      usage: { completion_tokens_details: { reasoning_tokens: 12 } },
    });
  });

  it('groq: usage under x_groq on the finish chunk, and nowhere else', async () => {
    const chunks = events(await raw('groq', { kind: 'text', text: 'Hi.' }));
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(chunks.at(-1)).toMatchObject({
      choices: [{ finish_reason: 'stop', delta: {} }],
      x_groq: { usage: { completion_tokens: 2 } },
    });
  });

  it('deepseek: keep-alive comments while it has not started, a role-only chunk, reasoning_content, the tool id on every piece', async () => {
    const text = await raw('deepseek', { kind: 'text', text: 'Hi.', reasoning: 'Hmm.', firstTokenDelayMs: 250 });
    expect(text.match(/^: keep-alive$/gm)!.length).toBeGreaterThanOrEqual(2);
    const chunks = events(text);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant' });
    expect(chunks[1].choices[0].delta).toEqual({ content: null, reasoning_content: 'Hmm' });

    const tools = events(
      await raw('deepseek', {
        kind: 'tool_calls',
        reasoning: '',
        calls: [{ name: 'look_up', arguments: { q: 'opening hours today' } }],
      }),
    );
    const pieces = tools.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(pieces.length).toBeGreaterThan(2);
    expect(new Set(pieces.map((p) => p.id)).size).toBe(1);
    expect(pieces.every((p) => p.function.name === 'look_up')).toBe(true);
  });

  it('openrouter: OPENROUTER PROCESSING comments and reasoning deltas', async () => {
    const text = await raw('openrouter', { kind: 'text', text: 'Hi.', firstTokenDelayMs: 150 });
    expect(text).toContain(': OPENROUTER PROCESSING\n\n');
    expect(events(text).some((c) => c.choices[0]?.delta?.reasoning)).toBe(true);
  });

  it('stops a reply at the request\'s max_tokens with finish_reason "length", in every dialect', async () => {
    for (const dialect of FAKE_DIALECTS) {
      const chunks = events(await raw(dialect, { kind: 'text', tokenCount: 10, reasoning: '' }, { max_tokens: 3 }));
      expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBe(3);
      expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe('length');
    }
  });

  it('answers 429 with retry-after (and retry-after-ms in the azure dialect)', async () => {
    server.setOptions({ dialect: 'azure' });
    server.enqueue({ kind: 'error', status: 429, retryAfterS: 2 });
    const response = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, messages: [] }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('retry-after-ms')).toBe('2000');
    expect(await response.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
  });

  it("serves Azure's path only with an api-key header and an api-version", async () => {
    const root = server.baseUrl.replace(/\/v1$/, '');
    const post = (path: string, headers: Record<string, string>) =>
      fetch(`${root}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      });
    expect((await post('/openai/deployments/voice/chat/completions?api-version=2024-10-21', {})).status).toBe(401);
    expect((await post('/openai/deployments/voice/chat/completions', { 'api-key': 'k' })).status).toBe(404);
    expect(
      (await post('/openai/deployments/voice/chat/completions?api-version=2024-10-21', { 'api-key': 'k' })).status,
    ).toBe(200);
    expect(server.requests.at(-1)).toMatchObject({
      deployment: 'voice',
      url: '/openai/deployments/voice/chat/completions?api-version=2024-10-21',
    });
  });

  it('stalls an even share of first tokens, the same every run', async () => {
    const stalling = new FakeLlmServer({ firstTokenDelayMs: 0, tokenDelayMs: 0, stallFirstTokens: 0.2 });
    await stalling.start();
    try {
      const outcomes: boolean[] = [];
      for (let i = 0; i < 10; i++) {
        const controller = new AbortController();
        const response = await fetch(`${stalling.baseUrl}/chat/completions`, {
          method: 'POST',
          signal: controller.signal,
          body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: `n${i}` }] }),
        });
        outcomes.push(stalling.requests[i].stalled);
        if (stalling.requests[i].stalled) controller.abort();
        else await response.text();
      }
      expect(outcomes).toEqual([false, false, false, false, true, false, false, false, false, true]);
      expect(stalling.timings().requests.filter((r) => r.stalled)).toHaveLength(2);
    } finally {
      await stalling.stop();
    }
  });
});
