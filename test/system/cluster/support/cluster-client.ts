import { MillisPlatformClient } from '../../../support/millis-platform-client';
import http from 'node:http';
import type { ServiceProcess } from '../../support/service-process';
import type { LiveCallDto } from '../../../../src/dashboard/dto/live-event.dto';

/**
 * HTTP requests that all travel on one kept-alive connection. A cluster's primary gives each
 * connection to one worker, so everything sent here is answered by the same worker, the one
 * `worker()` names (its slot, from /health/live).
 */
export class OneConnection {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private requests = 0;

  constructor(private readonly baseUrl: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const res = await this.open(path, headers);
    let body = '';
    res.setEncoding('utf8');
    for await (const chunk of res) body += chunk;
    return { status: res.statusCode ?? 0, body };
  }

  /** The slot of the worker serving this connection. */
  async worker(): Promise<number> {
    const { body } = await this.get('/health/live');
    return (JSON.parse(body) as { worker: number }).worker;
  }

  /** A response to read as a stream (server-sent events), on this connection. */
  open(path: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
    const first = this.requests++ === 0;
    return new Promise((resolve, reject) => {
      const req = http.get(`${this.baseUrl}${path}`, { agent: this.agent, headers }, (res) => {
        // The point of this class: a request after the first must not have opened another connection.
        if (!first && !req.reusedSocket) reject(new Error(`${path} was sent on a new connection`));
        else resolve(res);
      });
      req.on('error', reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface LiveEvent {
  type: string;
  data: LiveEventData;
}

/** The fields of a live event these suites read (LiveEventDto without its `type`), from JSON taken on trust. */
interface LiveEventData {
  calls?: LiveCallDto[];
  call?: LiveCallDto;
  session_id?: string;
  stream_id?: number;
  content?: string;
  end_reason?: string;
  [field: string]: unknown;
}

/** GET /api/live read as the call desk reads it: every event kept, in order. */
export class LiveView {
  readonly events: LiveEvent[] = [];
  private buffer = '';
  private waiters: Array<() => void> = [];

  private constructor(private readonly response: http.IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const type = /^event: (\w+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) this.events.push({ type, data: JSON.parse(data) });
      }
      const waiters = this.waiters;
      this.waiters = [];
      waiters.forEach((wake) => wake());
    });
  }

  static async open(connection: OneConnection, apiKey: string): Promise<LiveView> {
    const response = await connection.open('/api/live', { 'x-api-key': apiKey, accept: 'text/event-stream' });
    if (response.statusCode !== 200) throw new Error(`/api/live answered ${response.statusCode}`);
    const view = new LiveView(response);
    await view.waitUntil(() => view.events.length > 0, 10_000, 'the snapshot');
    return view;
  }

  get snapshot(): LiveCallDto[] {
    return this.events[0].data.calls!;
  }

  of(type: string, sessionId?: string, streamId?: number): LiveEvent[] {
    return this.events.filter(
      (e) =>
        e.type === type &&
        (sessionId === undefined || (e.data.session_id ?? e.data.call?.session_id) === sessionId) &&
        (streamId === undefined || e.data.stream_id === streamId),
    );
  }

  /** The reply pieces of one turn, joined. */
  piecesOf(sessionId: string, streamId: number): string {
    return this.of('reply_piece', sessionId, streamId)
      .map((e) => e.data.content)
      .join('');
  }

  async waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}; ${this.events.length} events so far`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.response.destroy();
  }
}

/**
 * The workers as the primary announced them (JSON log lines "Worker N (pid P) is ready", so the
 * service must run at LOG_LEVEL=log): slot → pid of the latest worker in that slot.
 */
export function readyWorkers(service: ServiceProcess): Map<number, number> {
  const workers = new Map<number, number>();
  for (const record of logRecords(service)) {
    const ready = /^Worker (\d+) \(pid (\d+)\) is ready$/.exec(typeof record.msg === 'string' ? record.msg : '');
    if (ready) workers.set(Number(ready[1]), Number(ready[2]));
  }
  return workers;
}

/** The JSON log lines the process tree wrote so far. */
export function logRecords(service: ServiceProcess): Array<Record<string, unknown>> {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** The slot of the worker an instance name belongs to (`host:port/worker-2` → 2). */
export function slotOf(instanceName: string): number {
  const match = /\/worker-(\d+)$/.exec(instanceName);
  if (!match) throw new Error(`${instanceName} is not the name of a worker`);
  return Number(match[1]);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens `count` calls one after the other. The primary hands each connection to the next worker that
 * has taken its previous one, so calls opened one by one alternate between the workers; opened all at
 * once, a burst can land on one worker.
 */
export async function connectOneByOne(count: number, url: string): Promise<MillisPlatformClient[]> {
  const clients: MillisPlatformClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await MillisPlatformClient.connect(url));
  return clients;
}
