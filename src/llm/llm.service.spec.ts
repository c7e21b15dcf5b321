import 'reflect-metadata';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { APIError } from 'openai';
import { AppConfig } from '../config/app-config';
import { CompletionChunk, CompletionRequest, LlmClient } from './llm-client';
import { LlmReplyError } from './llm-errors';
import { LlmService, ReplyChunk, ReplyRequest } from './llm.service';
import { defaultAgentSettings } from '../agents/agent-settings';
import { failingStream, llmServiceFor, ScriptedChunks, silentStream, streamOf } from '../../test/support/call-fakes';
import { OpenAiLlmClient } from './openai-llm.client';

const FIRST_TOKEN_TIMEOUT_MS = 300;
const IDLE_TIMEOUT_MS = 100;

const config = AppConfig.from({
  OPENAI_MODEL: 'test-model',
  LLM_TEMPERATURE: '0.3',
  LLM_MAX_TOKENS: '64',
  SYSTEM_PROMPT: 'You help {{customer.name}} for {{agent_id}}.',
  LLM_TIMEOUT_MS: String(FIRST_TOKEN_TIMEOUT_MS),
  LLM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves once the signal aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );

/** What a real SDK does when its signal aborts mid-request. */
async function rejectOnAbort(signal: AbortSignal): Promise<never> {
  await aborted(signal);
  throw Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
}

/** A promise the test opens by hand. */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const text = (value: string): CompletionChunk => ({ type: 'text', text: value });
const FINISH: CompletionChunk = { type: 'finish', reason: 'stop' };

/** An LlmClient whose stream is written by each test; records every request it gets. */
class ScriptedLlmClient extends LlmClient {
  readonly requests: CompletionRequest[] = [];

  constructor(private readonly script: (request: CompletionRequest) => ScriptedChunks) {
    super();
  }

  streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk> {
    this.requests.push(request);
    return streamOf(this.script(request));
  }

  get signal(): AbortSignal {
    return this.requests[0].signal;
  }
}

function replyRequest(overrides: Partial<ReplyRequest> = {}): ReplyRequest {
  return {
    transcript: [{ role: 'user', content: 'Hi' }],
    promptContext: {},
    signal: new AbortController().signal,
    settings: defaultAgentSettings(config, 'agent-1'),
    ...overrides,
  };
}

/** What the caller hears: the text chunks, in order. */
const texts = (chunks: ReplyChunk[]) => chunks.filter((c) => c.type === 'text');
const PROVIDER: ReplyChunk = { type: 'provider', provider: 'default', model: 'test-model' };

/** Consumes the reply, keeping what arrived and how it ended. */
async function consume(service: LlmService, request: ReplyRequest) {
  const chunks: ReplyChunk[] = [];
  try {
    for await (const chunk of service.streamReply(request)) chunks.push(chunk);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error: error as LlmReplyError };
  }
}

/**
 * `consume` with Jest's fake clock: timers (the watchdog, a script's pauses) advance only
 * while the reply is pending, so no test waits in real time.
 */
async function consumeOnFakeClock(service: LlmService, request: ReplyRequest) {
  jest.useFakeTimers();
  try {
    let settled = false;
    const consumed = consume(service, request).finally(() => (settled = true));
    while (!settled) await jest.advanceTimersByTimeAsync(5);
    return await consumed;
  } finally {
    jest.useRealTimers();
  }
}

describe('LlmService', () => {
  describe('buildMessages and the request sent to the client', () => {
    it('sends the rendered system prompt, the transcript, and the configured model settings', async () => {
      const client = new ScriptedLlmClient(function* () {
        yield FINISH;
      });
      const service = await llmServiceFor(client, config);
      const transcript = [
        { role: 'assistant' as const, content: 'Hello, how can I help?' },
        { role: 'user' as const, content: 'Book a table.' },
      ];

      await consume(
        service,
        replyRequest({ transcript, promptContext: { customer: { name: 'Ada' }, agent_id: 'a-1' } }),
      );

      expect(client.requests).toHaveLength(1);
      const [request] = client.requests;
      expect(request.messages).toEqual([
        { role: 'system', content: 'You help Ada for a-1.' },
        { role: 'assistant', content: 'Hello, how can I help?' },
        { role: 'user', content: 'Book a table.' },
      ]);
      expect(request).toMatchObject({ model: 'test-model', temperature: 0.3, maxTokens: 64 });
      expect(request.signal).toBeInstanceOf(AbortSignal);
      expect(service.model).toBe('test-model');
    });

    it('appends the instruction as the last user message', async () => {
      const service = await llmServiceFor(new ScriptedLlmClient(async function* () {}), config);

      const messages = service.buildMessages({
        transcript: [],
        promptContext: {},
        instruction: 'Greet the caller.',
        settings: defaultAgentSettings(config, 'agent-1'),
      });

      expect(messages).toEqual([
        { role: 'system', content: 'You help  for .' },
        { role: 'user', content: 'Greet the caller.' },
      ]);
    });
  });

  it('yields each chunk as soon as it arrives', async () => {
    const gates = [0, 1, 2].map(() => gate());
    const client = new ScriptedLlmClient(async function* () {
      yield text('One');
      await gates[0].promise;
      yield text(' two');
      await gates[1].promise;
      yield { type: 'usage', usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 } };
      await gates[2].promise;
      yield FINISH;
    });
    const reply = (await llmServiceFor(client, config)).streamReply(replyRequest());

    expect(await reply.next()).toEqual({ done: false, value: PROVIDER });
    expect(await reply.next()).toEqual({ done: false, value: text('One') });
    gates[0].resolve();
    expect(await reply.next()).toEqual({ done: false, value: text(' two') });
    gates[1].resolve();
    gates[2].resolve();
    // Usage and the finish reason close the round, once the stream has ended.
    expect((await reply.next()).value).toEqual({
      type: 'usage',
      usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 },
    });
    expect((await reply.next()).value).toEqual({
      type: 'round_end',
      summary: { finishReason: 'stop', responseModel: null, reasoning: null },
    });
    expect(await reply.next()).toEqual({ done: true, value: undefined });
  });

  it('keeps streaming when tokens arrive more often than the idle timeout, however long the reply', async () => {
    const client = new ScriptedLlmClient(async function* () {
      for (let i = 0; i < 8; i++) {
        await sleep(IDLE_TIMEOUT_MS / 2);
        yield text(`t${i} `);
      }
      yield FINISH;
    });

    const { chunks, error } = await consumeOnFakeClock(await llmServiceFor(client, config), replyRequest());

    expect(error).toBeUndefined();
    expect(texts(chunks)).toHaveLength(8);
    expect(client.signal.aborted).toBe(false);
  });

  it('allows the first token the longer first-token timeout', async () => {
    const client = new ScriptedLlmClient(async function* () {
      await sleep(IDLE_TIMEOUT_MS * 2);
      yield text('late but fine');
      yield FINISH;
    });

    const { chunks, error } = await consumeOnFakeClock(await llmServiceFor(client, config), replyRequest());

    expect(error).toBeUndefined();
    expect(texts(chunks)).toEqual([text('late but fine')]);
    expect(chunks.at(-1)).toMatchObject({ type: 'round_end' });
  });

  describe('timeouts', () => {
    it("fails with 'timeout' and aborts the client's signal when no first token comes, not before", async () => {
      jest.useFakeTimers();
      try {
        const client = new ScriptedLlmClient((request) => silentStream(() => rejectOnAbort(request.signal)));
        let settled = false;
        const consumed = consume(await llmServiceFor(client, config), replyRequest()).finally(() => (settled = true));

        await jest.advanceTimersByTimeAsync(FIRST_TOKEN_TIMEOUT_MS - 1);
        expect(settled).toBe(false);
        expect(client.signal.aborted).toBe(false);
        await jest.advanceTimersByTimeAsync(1);
        const { chunks, error } = await consumed;

        expect(error).toBeInstanceOf(LlmReplyError);
        expect(error).toMatchObject({ code: 'timeout', message: `no first token within ${FIRST_TOKEN_TIMEOUT_MS} ms` });
        expect(texts(chunks)).toEqual([]);
        expect(client.signal.aborted).toBe(true);
      } finally {
        jest.useRealTimers();
      }
    });

    it("fails with 'timeout' when a client ends its stream quietly on abort", async () => {
      const client = new ScriptedLlmClient((request) => silentStream(() => aborted(request.signal)));

      const { error } = await consumeOnFakeClock(await llmServiceFor(client, config), replyRequest());

      expect(error).toMatchObject({ code: 'timeout' });
      expect(client.signal.aborted).toBe(true);
    });

    it("fails with 'timeout' on a gap between tokens, after yielding what came", async () => {
      const client = new ScriptedLlmClient(async function* (request) {
        yield text('Let me');
        yield text(' see');
        await rejectOnAbort(request.signal);
      });

      const { chunks, error } = await consumeOnFakeClock(await llmServiceFor(client, config), replyRequest());

      expect(texts(chunks)).toEqual([text('Let me'), text(' see')]);
      expect(error).toMatchObject({ code: 'timeout', message: `no token for ${IDLE_TIMEOUT_MS} ms mid-reply` });
      expect(client.signal.aborted).toBe(true);
    });

    it('does not let usage chunks keep a silent stream alive', async () => {
      const client = new ScriptedLlmClient(async function* (request) {
        yield text('Hi');
        for (let i = 0; i < 10 && !request.signal.aborted; i++) {
          await sleep(IDLE_TIMEOUT_MS / 4);
          yield { type: 'usage', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } };
        }
        await rejectOnAbort(request.signal);
      });

      const { error } = await consumeOnFakeClock(await llmServiceFor(client, config), replyRequest());

      expect(error).toMatchObject({ code: 'timeout' });
    });
  });

  it("fails with 'stream_cut' when the stream ends without a finish chunk", async () => {
    const client = new ScriptedLlmClient(function* () {
      yield text('Half a sent');
    });

    const { chunks, error } = await consume(await llmServiceFor(client, config), replyRequest());

    expect(texts(chunks)).toEqual([text('Half a sent')]);
    expect(error).toBeInstanceOf(LlmReplyError);
    expect(error?.code).toBe('stream_cut');
  });

  it("fails with 'upstream_error' when the client throws", async () => {
    const client = new ScriptedLlmClient(function* () {
      yield text('Hel');
      throw new Error('socket hang up');
    });

    const { chunks, error } = await consume(await llmServiceFor(client, config), replyRequest());

    expect(texts(chunks)).toEqual([text('Hel')]);
    expect(error).toBeInstanceOf(LlmReplyError);
    expect(error).toMatchObject({ code: 'upstream_error', message: 'LLM request failed: socket hang up' });
  });

  it("fails with 'upstream_error' naming the provider's HTTP status", async () => {
    const client = new ScriptedLlmClient(() =>
      failingStream(new APIError(503, undefined, 'Service Unavailable', undefined)),
    );

    const { error } = await consume(await llmServiceFor(client, config), replyRequest());

    expect(error?.code).toBe('upstream_error');
    expect(error?.message).toMatch(/^LLM provider answered 503: /);
  });

  it("fails with 'upstream_error' when the client throws before returning a stream", async () => {
    const client = new ScriptedLlmClient(() => {
      throw new Error('bad configuration');
    });

    const { error } = await consume(await llmServiceFor(client, config), replyRequest());

    expect(error).toMatchObject({ code: 'upstream_error', message: 'LLM request failed: bad configuration' });
  });

  it("fails with 'unreachable', naming the socket error, when the provider cannot be reached", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const unreachable = AppConfig.from({
      OPENAI_MODEL: 'test-model',
      OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}/v1`,
    });

    const { error } = await consume(await llmServiceFor(new OpenAiLlmClient(unreachable), unreachable), replyRequest());

    expect(error).toBeInstanceOf(LlmReplyError);
    expect(error?.code).toBe('unreachable');
    expect(error?.message).toBe(`LLM provider unreachable: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
  });

  describe("the caller's signal", () => {
    const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

    it.each([
      ['finishes', [text('Hi'), FINISH]],
      ['is cut', [text('Hi')]],
    ])('holds no listener of ours once a reply %s', async (_ending, script) => {
      const caller = new AbortController();
      const client = new ScriptedLlmClient(() => script);

      await consume(await llmServiceFor(client, config), replyRequest({ signal: caller.signal }));

      expect(listeners(caller.signal)).toBe(0);
    });

    it('holds no listener of ours after a failure, a timeout, or a consumer that stops early', async () => {
      const caller = new AbortController();
      const failing = new ScriptedLlmClient(() => failingStream(new Error('boom')));
      const silent = new ScriptedLlmClient((request) => silentStream(() => rejectOnAbort(request.signal)));
      const endless = new ScriptedLlmClient(function* () {
        for (;;) yield text('more');
      });
      const request = replyRequest({ signal: caller.signal });

      await consume(await llmServiceFor(failing, config), request);
      await consumeOnFakeClock(await llmServiceFor(silent, config), request);
      for await (const chunk of (await llmServiceFor(endless, config)).streamReply(request))
        if (chunk.type === 'text') break;

      expect(listeners(caller.signal)).toBe(0);
      expect(caller.signal.aborted).toBe(false);
    });

    it('is never handed to the client: each request gets its own signal that follows it', async () => {
      const caller = new AbortController();
      const client = new ScriptedLlmClient(function* () {
        yield FINISH;
      });
      const service = await llmServiceFor(client, config);

      await consume(service, replyRequest({ signal: caller.signal }));
      await consume(service, replyRequest({ signal: caller.signal }));

      const [first, second] = client.requests.map((r) => r.signal);
      expect(first).not.toBe(caller.signal);
      expect(second).not.toBe(first);
    });
  });

  describe('caller cancellation', () => {
    it("aborts the client's signal and returns without throwing when the caller aborts mid-reply", async () => {
      const caller = new AbortController();
      const client = new ScriptedLlmClient(async function* (request) {
        yield text('Sure,');
        await rejectOnAbort(request.signal);
      });
      const reply = (await llmServiceFor(client, config)).streamReply(replyRequest({ signal: caller.signal }));

      expect(await reply.next()).toEqual({ done: false, value: PROVIDER });
      expect(await reply.next()).toEqual({ done: false, value: text('Sure,') });
      const next = reply.next();
      caller.abort('interrupted');

      await expect(next).resolves.toEqual({ done: true, value: undefined });
      expect(client.signal.aborted).toBe(true);
    });

    it('returns without throwing when the client ends quietly after the caller aborts', async () => {
      const caller = new AbortController();
      const client = new ScriptedLlmClient(async function* (request) {
        yield text('Sure,');
        await aborted(request.signal);
      });
      const reply = (await llmServiceFor(client, config)).streamReply(replyRequest({ signal: caller.signal }));

      await reply.next();
      await reply.next();
      const next = reply.next();
      caller.abort();

      await expect(next).resolves.toEqual({ done: true, value: undefined });
    });

    it('stops relaying chunks a client keeps sending after the caller aborted', async () => {
      const caller = new AbortController();
      const client = new ScriptedLlmClient(function* () {
        yield text('one');
        caller.abort();
        yield text('two');
        yield FINISH;
      });

      const { chunks, error } = await consume(
        await llmServiceFor(client, config),
        replyRequest({ signal: caller.signal }),
      );

      expect(error).toBeUndefined();
      expect(texts(chunks)).toEqual([text('one')]);
    });

    it('does not report a timeout after the caller aborted', async () => {
      const caller = new AbortController();
      const client = new ScriptedLlmClient((request) => silentStream(() => rejectOnAbort(request.signal)));
      const consumed = consume(await llmServiceFor(client, config), replyRequest({ signal: caller.signal }));

      caller.abort();

      await expect(consumed).resolves.toEqual({ chunks: [], error: undefined });
      expect(client.signal.aborted).toBe(true);
    });
  });
});
