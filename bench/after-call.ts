import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { describeError } from '../src/common/describe-error';
import { CallProgress, seededRandom, simulateCall } from './simulated-call';

/**
 * `npm run bench -- --after-call on|off`: the work that follows a call (post-call analysis and
 * webhooks) running while the measured calls talk. Before the measured load, a burst of short
 * calls (`--after-call-calls`, each a greeting and one turn) ends; with `on` each of them is
 * analysed through the fake LLM and delivered to a webhook receiver in the bench process (and the
 * measured calls' own call.started), so the queue is busy for the whole load. With `off` the
 * same burst runs with neither. Comparing the added latency of the two runs is the point.
 */
export interface AfterCallOptions {
  on: boolean;
  burstCalls: number;
}

export const AFTER_CALL_API_KEY = 'bench-after-call-api-key';

export function parseAfterCallOptions(argv: string[]): AfterCallOptions | null {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const mode = get('after-call');
  if (mode === undefined) return null;
  if (mode !== 'on' && mode !== 'off') throw new Error(`--after-call must be on or off, not ${mode}`);
  const burstCalls = Number(get('after-call-calls') ?? '300');
  if (!Number.isInteger(burstCalls) || burstCalls < 0) throw new Error('--after-call-calls must be a whole number');
  return { on: mode === 'on', burstCalls };
}

/** The service's environment for the run. */
export function afterCallEnv(options: AfterCallOptions): Record<string, string> {
  return {
    API_KEY: AFTER_CALL_API_KEY,
    ANALYSIS_ENABLED: String(options.on),
    // The receiver is on this machine.
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  };
}

/** A webhook receiver that answers 200 and counts what it receives. */
export class WebhookReceiver {
  received = 0;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.received++;
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/**
 * The bench database outlives its runs: endpoints of earlier runs (whose receivers are gone) and
 * their unfinished jobs would take the queue's time. Each run starts with none (before the service).
 */
export async function clearAfterCallWork(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ webhooks: string | null; jobs: string | null }>(
      `SELECT to_regclass('webhook_endpoints')::text AS webhooks, to_regclass('pgboss.job')::text AS jobs`,
    );
    if (rows[0].webhooks) await client.query('DELETE FROM webhook_endpoints');
    if (rows[0].jobs) await client.query('TRUNCATE pgboss.job, pgboss.archive');
    if (rows[0].webhooks) await client.query(`DELETE FROM call_analyses WHERE status IN ('pending', 'running')`);
  } finally {
    await client.end();
  }
}

/** Registers the receiver as a global endpoint for every event. */
export async function registerWebhook(port: number, url: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/api/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': AFTER_CALL_API_KEY },
    body: JSON.stringify({ url, description: 'bench receiver' }),
  });
  if (response.status !== 201) throw new Error(`webhook registration answered ${response.status}`);
}

/** The burst of short calls whose after-call work overlaps the measured load. */
export async function endShortCalls(url: string, runTag: string, count: number): Promise<void> {
  const progress: CallProgress = {
    connected: 0,
    greeted: 0,
    turnsDone: 0,
    holding: 0,
    framesSent: 0,
    framesReceived: 0,
  };
  const random = seededRandom(7);
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      simulateCall(
        {
          url,
          sessionId: `burst-${runTag}-${index}`,
          index,
          turns: 1,
          thinkMs: 0,
          tokensPerReply: 10,
          interruptRate: 0,
          interruptAfterPieces: 5,
        },
        progress,
        random,
      ),
    ),
  );
}

/** What the after-call work had done when the measured load ended, and once it drained (at most `drainMs`). */
export async function afterCallProgress(
  databaseUrl: string,
  runTag: string,
  receiver: WebhookReceiver | null,
  drainMs: number,
): Promise<{ analysesAtEnd: number; analysesDone: number; failed: number; webhooksReceived: number; drainMs: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const read = async () => {
      const { rows } = await client.query<{ done: number; failed: number; total: number }>(
        `SELECT count(*) FILTER (WHERE a.status = 'completed')::int AS done,
                count(*) FILTER (WHERE a.status = 'failed')::int AS failed,
                count(*)::int AS total
           FROM call_analyses a JOIN call_sessions s ON s.id = a.call_session_id
          WHERE s.session_id LIKE $1 OR s.session_id LIKE $2`,
        [`${runTag}-%`, `burst-${runTag}-%`],
      );
      return rows[0];
    };
    const atEnd = await read();
    const started = Date.now();
    let now = atEnd;
    while (now.done + now.failed < now.total && Date.now() - started < drainMs) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      now = await read();
    }
    return {
      analysesAtEnd: atEnd.done,
      analysesDone: now.done,
      failed: now.failed,
      webhooksReceived: receiver?.received ?? 0,
      drainMs: Date.now() - started,
    };
  } catch (error) {
    throw new Error(`after-call progress not read: ${describeError(error)}`, { cause: error });
  } finally {
    await client.end();
  }
}
