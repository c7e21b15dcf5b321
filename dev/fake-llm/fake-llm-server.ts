import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_OPTIONS,
  chooseScenario,
  countPromptTokens,
  errorBody,
  lastUserText,
  planResponse,
  randomId,
  type FakeLlmOptions,
  type FakeResponder,
  type FakeScenario,
  type FakeTimings,
  type RecordedRequest,
  type ResponsePlan,
  type StreamStep,
} from './fake-llm-scenario';

import { DIALECTS } from './fake-llm-dialects';
import type { ChatRequestBody } from './fake-llm-request';
import { ChunkRenderer } from './fake-llm-stream';

export * from './fake-llm-scenario';
export type * from './fake-llm-request';
export * from './fake-llm-dialects';

/** How often a dialect with keep-alive comments sends one while the model has not started. */
const KEEP_ALIVE_MS = 100;
/** Azure's path: the deployment in it, the api-version in the query. */
const AZURE_CHAT = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;

type ReplyPlan = Extract<ResponsePlan, { kind: 'reply' }>;

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Per-response state that lets a client disconnect cancel the pending timer. */
class Exchange {
  closed = false;
  private markClosed!: () => void;
  /** Settles once the connection is gone. */
  readonly whenClosed = new Promise<void>((resolve) => (this.markClosed = resolve));
  /** Set when the server drops the connection on purpose, which is not a client abort. */
  cutByServer = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: ((open: boolean) => void) | undefined;

  constructor(readonly res: ServerResponse) {}

  /** Resolves false instead of waiting once the connection is gone. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => resolve(!this.closed), Math.max(0, ms));
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.wake?.(false);
    this.markClosed();
  }

  write(data: string): boolean {
    if (this.closed || this.res.destroyed) return false;
    this.res.write(data);
    return true;
  }
}

/**
 * OpenAI-compatible chat-completions server with scripted, timed replies, so
 * the real `openai` client can be exercised without the network.
 */
export class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
  private options: FakeLlmOptions;
  private readonly queue: FakeScenario[] = [];
  private responder: FakeResponder | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly exchanges = new Set<Exchange>();
  private waiters: Waiter[] = [];
  private url: string | undefined;
  private stopping = false;
  /** Chat requests answered so far, for stallFirstTokens. */
  private chats = 0;

  constructor(options?: Partial<FakeLlmOptions>) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  get baseUrl(): string {
    if (!this.url) throw new Error('FakeLlmServer is not started');
    return this.url;
  }

  async start(): Promise<string> {
    if (this.url) return this.url;
    this.stopping = false;
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket) => {
      // Each token must leave immediately, not wait to be coalesced.
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://${this.options.host}:${port}/v1`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.stopping = true;
    this.server = undefined;
    this.url = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Hanging streams and idle keep-alive sockets would otherwise block close().
    for (const exchange of this.exchanges) exchange.close();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  setOptions(partial: Partial<FakeLlmOptions>): void {
    this.options = { ...this.options, ...partial };
  }

  enqueue(...scenarios: FakeScenario[]): void {
    this.queue.push(...scenarios);
  }

  setResponder(fn: FakeResponder | undefined): void {
    this.responder = fn;
  }

  reset(): void {
    this.queue.length = 0;
    this.responder = undefined;
    this.requests.length = 0;
  }

  waitForRequests(n: number, timeoutMs = 5000): Promise<RecordedRequest[]> {
    return this.waitFor(
      () => this.requests.length >= n,
      timeoutMs,
      () => `expected ${n} requests, got ${this.requests.length}`,
    ).then(() => this.requests);
  }

  waitForAbort(index: number, timeoutMs = 5000): Promise<RecordedRequest> {
    return this.waitFor(
      () => this.requests[index]?.aborted === true,
      timeoutMs,
      () => `request #${index} was not aborted`,
    ).then(() => this.requests[index]);
  }

  private waitFor(ready: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        ready,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`Timed out after ${timeoutMs}ms: ${describe()}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.ready()) continue;
      clearTimeout(waiter.timer);
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve();
    }
  }

  /**
   * When each request's tokens were written, as epoch milliseconds (sub-ms precision),
   * so a benchmark in another process can compare them with when its frames arrived.
   */
  timings(): FakeTimings {
    const origin = performance.timeOrigin;
    return {
      requests: this.requests.map((r) => ({
        user: lastUserText(r.body) ?? '',
        receivedAt: origin + r.receivedAt,
        firstTokenWrittenAt: r.firstTokenWrittenAt === undefined ? null : origin + r.firstTokenWrittenAt,
        tokenWrittenAt: r.tokenWrittenAt.map((t) => origin + t),
        finished: r.finished,
        aborted: r.aborted,
        stalled: r.stalled,
      })),
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => undefined);
    const [rawPath, query = ''] = (req.url ?? '/').split('?');
    const azure = AZURE_CHAT.exec(rawPath.replace(/\/+$/, ''));
    if (req.method === 'POST' && azure) {
      // As Azure answers: the key must come as api-key, the api-version must be given.
      if (!req.headers['api-key']) {
        req.resume();
        sendJson(res, 401, errorBody(401, 'Access denied due to invalid subscription key or wrong API endpoint.'));
        return;
      }
      if (!new URLSearchParams(query).get('api-version')) {
        req.resume();
        sendJson(res, 404, errorBody(404, 'Resource not found'));
        return;
      }
      readBody(req, (raw) => this.handleChat(req, res, raw, decodeURIComponent(azure[1])));
      return;
    }
    const path = rawPath.replace(/^\/v1(?=\/)/, '').replace(/\/+$/, '');
    if (req.method === 'GET' && path === '/models') {
      sendJson(res, 200, {
        object: 'list',
        data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake-llm' }],
      });
      return;
    }
    if (req.method === 'GET' && path === '/__timings') {
      sendJson(res, 200, this.timings());
      return;
    }
    if (req.method === 'POST' && path === '/chat/completions') {
      readBody(req, (raw) => this.handleChat(req, res, raw));
      return;
    }
    req.resume();
    sendJson(res, 404, errorBody(404, `Unknown endpoint: ${req.method} ${req.url}`));
  }

  private handleChat(req: IncomingMessage, res: ServerResponse, raw: string, deployment?: string): void {
    let body: ChatRequestBody;
    try {
      body = JSON.parse(raw) as ChatRequestBody;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object');
    } catch {
      sendJson(res, 400, errorBody(400, 'We could not parse the JSON body of your request.'));
      return;
    }

    const record: RecordedRequest = {
      id: randomId('chatcmpl-'),
      body,
      headers: req.headers,
      url: req.url ?? '/',
      ...(deployment !== undefined ? { deployment } : {}),
      stalled: stallsAt(this.chats++, this.options.stallFirstTokens),
      receivedAt: performance.now(),
      tokensWritten: 0,
      tokenWrittenAt: [],
      finished: false,
      aborted: false,
    };
    this.requests.push(record);
    const scenario = chooseScenario(this.queue.shift(), this.responder, record);
    // A stalled request never gets its first token, whatever it asked for.
    const plan = planResponse(record.stalled ? { kind: 'hang' } : scenario, body, this.options);
    this.notify();

    if (plan.kind === 'error') {
      sendJson(res, plan.status, plan.body, plan.headers);
      record.finished = true;
      return;
    }

    const exchange = new Exchange(res);
    this.exchanges.add(exchange);
    res.on('close', () => {
      exchange.close();
      this.exchanges.delete(exchange);
      if (!record.finished && !this.stopping && !exchange.cutByServer) {
        record.aborted = true;
        this.notify();
      }
    });

    const run = body.stream === true ? this.stream(exchange, record, plan) : this.respondWhole(exchange, record, plan);
    run.catch(() => exchange.res.destroy());
  }

  private async stream(exchange: Exchange, record: RecordedRequest, plan: ReplyPlan): Promise<void> {
    const { body } = record;
    const render = new ChunkRenderer(DIALECTS[this.options.dialect], {
      id: record.id,
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'fake-model',
      includeUsage: body.stream_options?.include_usage === true,
      promptTokens: countPromptTokens(body),
    });

    exchange.res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    exchange.res.flushHeaders();
    for (const frame of render.opening()) exchange.write(frame);
    // Comments while the model has not started (forever, if it never does): never a token.
    const keepAlive = render.keepAlive();
    let keepAliveTimer: NodeJS.Timeout | undefined;
    if (keepAlive) {
      exchange.write(keepAlive);
      keepAliveTimer = setInterval(() => exchange.write(keepAlive), KEEP_ALIVE_MS);
    }
    try {
      for (const [i, step] of plan.steps.entries()) {
        if (!(await exchange.sleep(i === 0 ? plan.firstTokenDelayMs : plan.tokenDelayMs))) return;
        clearInterval(keepAliveTimer);
        const last = i === plan.steps.length - 1 && plan.ending === 'finish';
        if (!exchange.write(render.step(step, last, plan.finishReason))) return;
        markWritten(record, step);
      }

      if (plan.ending === 'hang') {
        // Held open until the client gives up (or the server stops).
        await exchange.whenClosed;
        return;
      }
      clearInterval(keepAliveTimer);
      if (plan.ending === 'cut') {
        // A reset discards data the client has not read yet, so let the last token land first.
        if (!(await exchange.sleep(plan.tokenDelayMs))) return;
        exchange.cutByServer = true;
        exchange.res.destroy();
        return;
      }

      for (const frame of render.ending(plan.finishReason)) exchange.write(frame);
      record.finished = true;
      exchange.res.end();
    } finally {
      clearInterval(keepAliveTimer);
    }
  }

  /** Non-streaming: same total latency as the stream, then one JSON body. */
  private async respondWhole(exchange: Exchange, record: RecordedRequest, plan: ReplyPlan): Promise<void> {
    const steps = plan.steps.length;
    const latency = plan.firstTokenDelayMs + Math.max(0, steps - 1) * plan.tokenDelayMs;
    if (plan.ending === 'hang') return;
    if (!(await exchange.sleep(latency))) return;
    if (plan.ending === 'cut') {
      exchange.cutByServer = true;
      exchange.res.destroy();
      return;
    }

    const content = plan.steps.flatMap((s) => (s.type === 'content' ? [s.text] : [])).join('');
    const toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
    for (const step of plan.steps) {
      if (step.type !== 'tool') continue;
      (toolCalls[step.index] ??= {
        id: step.id,
        type: 'function',
        function: { name: step.name, arguments: '' },
      }).function.arguments += step.arguments;
    }
    const message = {
      role: 'assistant',
      content: content || (toolCalls.length > 0 ? null : ''),
      refusal: null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    };
    const now = performance.now();
    record.firstTokenWrittenAt = now;
    for (const step of plan.steps) if (step.type === 'content') record.tokenWrittenAt.push(now);
    record.tokensWritten = record.tokenWrittenAt.length;
    record.finished = true;
    sendJson(exchange.res, 200, {
      id: record.id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: record.body.model ?? 'fake-model',
      choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason }],
      usage: usageOf(record, plan),
    });
  }
}

function markWritten(record: RecordedRequest, step: StreamStep): void {
  // Thinking is not an answer: the first token is the first text or tool call.
  if (step.type === 'reasoning') return;
  const now = performance.now();
  record.firstTokenWrittenAt ??= now;
  if (step.type !== 'content') return;
  record.tokenWrittenAt.push(now);
  record.tokensWritten = record.tokenWrittenAt.length;
}

function usageOf(record: RecordedRequest, plan: ReplyPlan) {
  const prompt = countPromptTokens(record.body);
  const completion = plan.steps.filter((s) => s.type !== 'tool' || s.arguments !== '').length;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Request `index` stalls when it takes the running share of stalls past a whole number: evenly spread, the same every run. */
function stallsAt(index: number, share: number): boolean {
  return share > 0 && Math.floor((index + 1) * share) > Math.floor(index * share);
}

function sendJson(res: ServerResponse, status: number, payload: object, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, done: (raw: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
  req.on('error', () => undefined);
}
