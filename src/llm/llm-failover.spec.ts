import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { getEventListeners } from 'node:events';
import { APIError } from 'openai';
import { AppConfig } from '../config/app-config';
import { CompletionChunk, CompletionRequest, LlmClient } from './llm-client';
import { LlmReplyError } from './llm-errors';
import { LlmProviders } from './llm-providers';
import { LlmProviderEvent, LlmTelemetry } from './llm-telemetry';
import { LlmService, LlmSettings, ReplyChunk, ReplyRequest } from './llm.service';
import { defaultAgentSettings } from '../agents/agent-settings';
import { failingStream, llmTestingModule, ScriptedChunks, silentStream, streamOf } from '../../test/support/call-fakes';

const FIRST_TOKEN_MS = 150;

/** A request's fields, its settings given as overrides of the agent defaults. */
type Overrides = Omit<Partial<ReplyRequest>, 'settings'> & { settings?: Partial<LlmSettings> };

const config = AppConfig.from({
  OPENAI_MODEL: 'agent-model',
  LLM_PROVIDERS: JSON.stringify([
    { name: 'a', base_url: 'http://a.invalid/v1', first_token_timeout_ms: FIRST_TOKEN_MS, idle_timeout_ms: 150 },
    { name: 'b', base_url: 'http://b.invalid/v1', model: 'b-model', first_token_timeout_ms: 1000 },
    { name: 'c', base_url: 'http://c.invalid/v1', first_token_timeout_ms: 1000 },
  ]),
  LLM_CIRCUIT_FAILURES: '3',
  LLM_CIRCUIT_OPEN_MS: '60000',
});

type Script = (request: CompletionRequest) => ScriptedChunks;

/** A provider whose streams the test writes; records every request. */
class ScriptedClient extends LlmClient {
  readonly requests: CompletionRequest[] = [];
  script: Script = () => answer('ok');

  streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk> {
    this.requests.push(request);
    return streamOf(this.script(request));
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
async function rejectOnAbort(signal: AbortSignal): Promise<never> {
  await aborted(signal);
  throw Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
}

function* answer(text: string): Generator<CompletionChunk> {
  yield { type: 'model', model: 'served-model-2030' };
  for (const word of text.split(/(?= )/)) yield { type: 'text', text: word };
  yield { type: 'finish', reason: 'stop' };
}

const texts = (chunks: ReplyChunk[]) => chunks.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('');
const failed = (chunks: ReplyChunk[]) => chunks.flatMap((c) => (c.type === 'attempt_failed' ? [c.attempt] : []));
const providerOf = (chunks: ReplyChunk[]) => chunks.find((c) => c.type === 'provider');

describe('LlmService failover between providers', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));

  let clients: Record<'a' | 'b' | 'c', ScriptedClient>;
  let providers: LlmProviders;
  let service: LlmService;
  let events: LlmProviderEvent[];

  beforeEach(async () => {
    // Scripts pause and watchdogs fire on Jest's clock, which moves only while a reply is pending.
    jest.useFakeTimers();
    clients = { a: new ScriptedClient(), b: new ScriptedClient(), c: new ScriptedClient() };
    const moduleRef = await llmTestingModule(new ScriptedClient(), config, (p) => clients[p.name as 'a' | 'b' | 'c']);
    events = [];
    moduleRef.get(LlmTelemetry).listen((event) => events.push(event));
    providers = moduleRef.get(LlmProviders);
    service = moduleRef.get(LlmService);
  });

  afterEach(() => jest.useRealTimers());

  function request(overrides: Overrides = {}): ReplyRequest {
    return {
      transcript: [{ role: 'user', content: 'Hi' }],
      promptContext: {},
      signal: new AbortController().signal,
      ...overrides,
      settings: { ...defaultAgentSettings(config, 'agent-1'), ...overrides.settings },
    };
  }

  /** The reply's chunks and error; the fake clock advances 1 ms at a time until it settles. */
  async function consume(overrides: Overrides = {}) {
    const chunks: ReplyChunk[] = [];
    let settled = false;
    const consumed = (async () => {
      try {
        for await (const chunk of service.streamReply(request(overrides))) chunks.push(chunk);
        return { chunks, error: undefined };
      } catch (error) {
        return { chunks, error: error as LlmReplyError };
      } finally {
        settled = true;
      }
    })();
    while (!settled) await jest.advanceTimersByTimeAsync(1);
    return consumed;
  }

  it('asks the first provider only, with its model or the agent model, when it answers', async () => {
    const { chunks, error } = await consume();

    expect(error).toBeUndefined();
    expect(texts(chunks)).toBe('ok');
    expect(chunks[0]).toEqual({ type: 'provider', provider: 'a', model: 'agent-model' });
    expect(chunks.at(-1)).toEqual({
      type: 'round_end',
      summary: { finishReason: 'stop', responseModel: 'served-model-2030', reasoning: null },
    });
    expect(clients.b.requests).toHaveLength(0);
    expect(events).toEqual([{ type: 'attempt', provider: 'a', outcome: 'answered', firstTokenMs: expect.any(Number) }]);
  });

  it('moves on to the next provider when the first answers an error, and says what failed', async () => {
    clients.a.script = () => failingStream(new APIError(503, { message: 'overloaded' }, 'overloaded', new Headers()));

    const { chunks, error } = await consume();

    expect(error).toBeUndefined();
    expect(texts(chunks)).toBe('ok');
    expect(providerOf(chunks)).toEqual({ type: 'provider', provider: 'b', model: 'b-model' });
    expect(failed(chunks)).toEqual([
      {
        provider: 'a',
        model: 'agent-model',
        code: 'upstream_error',
        status: 503,
        error: 'LLM provider answered 503: 503 overloaded',
        startedAt: expect.any(String),
        durationMs: expect.any(Number),
      },
    ]);
    expect(clients.b.requests[0].model).toBe('b-model');
    expect(events.map((e) => (e.type === 'attempt' ? `${e.provider}:${e.outcome}` : e.type))).toEqual([
      'a:failed',
      'b:answered',
    ]);
  });

  it('moves on when the first says nothing within its own budget, and aborts it upstream', async () => {
    clients.a.script = (req) => silentStream(() => rejectOnAbort(req.signal));
    const started = performance.now();

    const { chunks } = await consume();

    expect(texts(chunks)).toBe('ok');
    expect(performance.now() - started).toBeGreaterThanOrEqual(FIRST_TOKEN_MS - 5);
    expect(clients.a.requests[0].signal.aborted).toBe(true);
    expect(failed(chunks)).toMatchObject([
      { provider: 'a', code: 'timeout', error: `no first token within ${FIRST_TOKEN_MS} ms` },
    ]);
  });

  it("never moves on once the caller heard words: the failure is the caller's fallback", async () => {
    clients.a.script = function* () {
      yield { type: 'text', text: 'The shop opens' };
      throw new Error('socket hang up');
    };

    const { chunks, error } = await consume();

    expect(texts(chunks)).toBe('The shop opens');
    expect(error).toMatchObject({ code: 'upstream_error', message: 'LLM request failed: socket hang up' });
    expect(clients.b.requests).toHaveLength(0);
    expect(providerOf(chunks)).toMatchObject({ provider: 'a' });
  });

  it('moves on after reasoning or a tool call half written: neither was heard', async () => {
    clients.a.script = function* () {
      yield { type: 'reasoning', text: 'The caller wants' };
      yield { type: 'tool_call_delta', index: 0, id: 'call_a', name: 'look_up', arguments: '{"q":' };
    };
    clients.b.script = function* () {
      yield { type: 'tool_call_delta', index: 0, id: 'call_b', name: 'look_up', arguments: '{"q":"hours"}' };
      yield { type: 'finish', reason: 'tool_calls' };
    };

    const { chunks, error } = await consume();

    expect(error).toBeUndefined();
    expect(failed(chunks)).toMatchObject([{ provider: 'a', code: 'stream_cut' }]);
    expect(chunks.filter((c) => c.type === 'tool_calls')).toEqual([
      { type: 'tool_calls', calls: [{ id: 'call_b', name: 'look_up', arguments: '{"q":"hours"}' }] },
    ]);
    expect(chunks.at(-1)).toMatchObject({ summary: { finishReason: 'tool_calls', reasoning: null } });
  });

  it('fails with every provider named when none answers', async () => {
    for (const client of Object.values(clients)) {
      client.script = () => failingStream(new APIError(500, { message: 'down' }, 'down', new Headers()));
    }

    const { chunks, error } = await consume();

    expect(error).toBeInstanceOf(LlmReplyError);
    expect(error).toMatchObject({
      code: 'upstream_error',
      message:
        'a: LLM provider answered 500: 500 down; b: LLM provider answered 500: 500 down; c: LLM provider answered 500: 500 down',
    });
    expect(failed(chunks).map((f) => f.provider)).toEqual(['a', 'b', 'c']);
    expect(providerOf(chunks)).toBeUndefined();
  });

  it('opens the circuit of a provider failing 3 times: later rounds skip it at no cost, and try it again after the pause', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'performance'] });
    try {
      clients.a.script = () => failingStream(new APIError(500, { message: 'down' }, 'down', new Headers()));
      for (let i = 0; i < 3; i++) expect(texts((await consume()).chunks)).toBe('ok');
      expect(providers.get('a')!.breaker.state).toBe('open');

      const { chunks } = await consume();
      expect(clients.a.requests).toHaveLength(3);
      expect(failed(chunks)).toEqual([
        {
          provider: 'a',
          model: 'agent-model',
          code: 'circuit_open',
          error: 'skipped: circuit open for 60 s more',
          startedAt: expect.any(String),
          durationMs: 0,
        },
      ]);
      expect(events.filter((e) => e.type === 'circuit')).toEqual([{ type: 'circuit', provider: 'a', state: 'open' }]);

      jest.advanceTimersByTime(60_000);
      clients.a.script = () => answer('back');
      expect(texts((await consume()).chunks)).toBe('back');
      expect(providers.get('a')!.breaker.state).toBe('closed');
      expect(events.filter((e) => e.type === 'circuit').map((e) => (e.type === 'circuit' ? e.state : ''))).toEqual([
        'open',
        'half_open',
        'closed',
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps away from a provider that answered 429 for as long as its retry-after asks', async () => {
    clients.a.script = () =>
      failingStream(new APIError(429, { message: 'slow down' }, 'slow down', new Headers({ 'retry-after': '20' })));

    const first = await consume();
    expect(failed(first.chunks)).toMatchObject([
      { provider: 'a', code: 'rate_limited', status: 429, retryAfterMs: 20_000 },
    ]);
    expect(providers.get('a')!.breaker.state).toBe('open');
    expect(providers.get('a')!.breaker.retryInMs).toBeGreaterThan(19_000);

    await consume();
    expect(clients.a.requests).toHaveLength(1);
  });

  it('moves on from a 400 without holding it against the provider (the request was refused, not the provider down)', async () => {
    clients.a.script = () =>
      failingStream(new APIError(400, { message: 'context too long' }, 'context too long', new Headers()));
    for (let i = 0; i < 4; i++) expect(texts((await consume()).chunks)).toBe('ok');
    expect(providers.get('a')!.breaker.state).toBe('closed');
  });

  it("fails as 'unavailable', asking nobody, when every provider's circuit is open", async () => {
    for (const provider of providers.all) provider.breaker.coolDown(30_000, 'test');

    const { chunks, error } = await consume();

    expect(error).toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/^no LLM provider available: a skipped: circuit open/),
    });
    expect(failed(chunks).map((f) => f.code)).toEqual(['circuit_open', 'circuit_open', 'circuit_open']);
    expect(clients.a.requests).toHaveLength(0);
  });

  it("follows the agent's own order", async () => {
    const { chunks } = await consume({ settings: { providers: ['c', 'a'] } });
    expect(providerOf(chunks)).toMatchObject({ provider: 'c' });
    expect(clients.a.requests).toHaveLength(0);
  });

  it('counts reasoning (never spoken) and times it apart, as the provider reports it or one token per piece', async () => {
    clients.a.script = async function* () {
      for (const piece of ['Hmm', ', the', ' hours']) {
        await sleep(5);
        yield { type: 'reasoning', text: piece };
      }
      yield* answer('Nine to five.');
    };
    const plain = await consume();
    expect(texts(plain.chunks)).toBe('Nine to five.');
    const summary = plain.chunks.at(-1) as Extract<ReplyChunk, { type: 'round_end' }>;
    expect(summary.summary.reasoning).toEqual({ tokens: 3, ms: expect.any(Number) });
    expect(summary.summary.reasoning!.ms).toBeGreaterThanOrEqual(8);

    clients.a.script = function* () {
      yield { type: 'reasoning', text: 'Hmm' };
      yield* answer('Yes.');
      yield { type: 'usage', usage: { promptTokens: 10, completionTokens: 50, totalTokens: 60, reasoningTokens: 42 } };
    };
    const reported = await consume();
    expect(reported.chunks.at(-1)).toMatchObject({ summary: { reasoning: { tokens: 42 } } });
    expect(
      events.filter((e) => e.type === 'attempt').every((e) => e.type === 'attempt' && e.reasoningMs !== undefined),
    ).toBe(true);
  });

  it('keeps the last usage of a stream that reports it on every chunk (cumulative)', async () => {
    clients.a.script = function* () {
      yield { type: 'text', text: 'a' };
      yield { type: 'usage', usage: { promptTokens: 9, completionTokens: 1, totalTokens: 10 } };
      yield { type: 'text', text: 'b' };
      yield { type: 'usage', usage: { promptTokens: 9, completionTokens: 2, totalTokens: 11 } };
      yield { type: 'finish', reason: 'length' };
    };
    const { chunks } = await consume();
    expect(chunks.filter((c) => c.type === 'usage')).toEqual([
      { type: 'usage', usage: { promptTokens: 9, completionTokens: 2, totalTokens: 11 } },
    ]);
    expect(chunks.at(-1)).toMatchObject({ summary: { finishReason: 'length' } });
  });

  describe('hedged first token', () => {
    const slow = (ms: number, text: string): Script =>
      async function* (req) {
        await sleep(ms, req.signal);
        if (req.signal.aborted) throw Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
        yield* answer(text);
      };

    it('starts the next provider when the first is silent past the hedge, takes whichever speaks first and aborts the other', async () => {
      clients.a.script = slow(FIRST_TOKEN_MS - 20, 'from a');
      clients.b.script = slow(10, 'from b');

      const { chunks, error } = await consume({ settings: { hedgeAfterMs: 30 } });

      expect(error).toBeUndefined();
      expect(texts(chunks)).toBe('from b');
      expect(clients.a.requests[0].signal.aborted).toBe(true);
      expect(chunks.find((c) => c.type === 'hedge')).toEqual({
        type: 'hedge',
        hedge: {
          startedAfterMs: expect.any(Number),
          winner: 'b',
          hedgeWon: true,
          extra: [{ provider: 'a', model: 'agent-model', outcome: 'aborted', durationMs: expect.any(Number) }],
        },
      });
      expect(failed(chunks)).toEqual([]);
      expect(events).toContainEqual({ type: 'hedge', provider: 'b', hedgeWon: true });
      expect(events).toContainEqual({ type: 'attempt', provider: 'a', outcome: 'lost' });
    });

    it('keeps the first when it speaks before the hedge, asking nobody else', async () => {
      clients.a.script = slow(5, 'quick a');

      const { chunks } = await consume({ settings: { hedgeAfterMs: 80 } });

      expect(texts(chunks)).toBe('quick a');
      expect(clients.b.requests).toHaveLength(0);
      expect(chunks.some((c) => c.type === 'hedge')).toBe(false);
    });

    it('keeps the first when it speaks after the hedge started but before the second, and aborts the second', async () => {
      clients.a.script = slow(60, 'a after all');
      clients.b.script = slow(500, 'too late');

      const { chunks } = await consume({ settings: { hedgeAfterMs: 20 } });

      expect(texts(chunks)).toBe('a after all');
      expect(clients.b.requests[0].signal.aborted).toBe(true);
      expect(chunks.find((c) => c.type === 'hedge')).toMatchObject({
        hedge: { winner: 'a', hedgeWon: false, extra: [{ provider: 'b', outcome: 'aborted' }] },
      });
    });

    it('leaves nothing running and throws nothing when the caller hangs up during the race', async () => {
      const caller = new AbortController();
      clients.a.script = slow(5_000, 'never');
      clients.b.script = slow(5_000, 'never');
      const consumed = consume({ signal: caller.signal, settings: { hedgeAfterMs: 10 } });
      await new Promise<void>((resolve) => {
        const check = () => (clients.b.requests.length ? resolve() : setTimeout(check, 5));
        check();
      });
      caller.abort();

      await expect(consumed).resolves.toEqual({ chunks: [], error: undefined });
      expect(clients.a.requests[0].signal.aborted).toBe(true);
      expect(clients.b.requests[0].signal.aborted).toBe(true);
      expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
      expect(events.filter((e) => e.type === 'attempt').map((e) => (e.type === 'attempt' ? e.outcome : ''))).toEqual([
        'cancelled',
        'cancelled',
      ]);
    });
  });
});
