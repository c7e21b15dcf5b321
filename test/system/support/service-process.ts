import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from '../../support/eventually';
import { TEST_DATABASE_URL } from '../../support/test-database';

const ROOT = resolve(__dirname, '../../..');
export const METRICS_TOKEN = 'metrics-token-for-tests-0123';

export interface ServiceProcess {
  port: number;
  /** With `workers`: the cluster's size (the process is its primary). */
  workers?: number;
  wsUrl: string;
  httpUrl: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  metric(name: string): Promise<number | undefined>;
  /** The whole /metrics text. */
  scrape(): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  /** Heap in use after a full GC (the process must be spawned with `collectableHeap`). */
  heapAfterGc(): Promise<number>;
}

/** Node arguments that let `heapAfterGc()` force a full GC in the service. */
export const COLLECTABLE_HEAP = ['--expose-gc', '-r', resolve(__dirname, 'gc-on-signal.js')];
/** What gc-on-signal.js writes to stderr once a full GC has run. */
const GC_DONE = 'gc-on-signal: full GC done';

/** A free loopback port (released just before the service binds it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

export interface SpawnOptions {
  port?: number;
  nodeArgs?: string[];
  /** WORKERS: the process is the primary of that many workers; start-up waits until each one answers. */
  workers?: number;
}

/**
 * The service as production runs it: its own Node process (src/main.ts through ts-node,
 * no build), real Postgres, real sockets. Resolves once /health/live answers (with
 * `workers`, once every worker has answered it).
 */
export async function spawnService(
  env: Record<string, string> = {},
  options: SpawnOptions = {},
): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
  // e.g. OPS_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service under a test.
  const nodeArgs = [
    ...(options.nodeArgs ?? []),
    ...(process.env.OPS_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const child = spawn(process.execPath, [...nodeArgs, '-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...inherited,
      NODE_ENV: 'production',
      // Suites that test WebSocket authentication set WS_AUTH_TOKEN / WS_ALLOWED_IPS themselves.
      ALLOW_OPEN_WEBSOCKET: 'true',
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: TEST_DATABASE_URL,
      OPENAI_API_KEY: 'test-key',
      OPENAI_MODEL: 'fake-model',
      LOG_LEVEL: 'warn',
      METRICS_TOKEN,
      AUDIT_FLUSH_INTERVAL_MS: '50',
      AUDIT_DEAD_LETTER_FILE: join(mkdtempSync(join(tmpdir(), 'ops-audit-')), 'dead-letter.ndjson'),
      ...(options.workers === undefined ? {} : { WORKERS: String(options.workers) }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const httpUrl = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    port,
    workers: options.workers,
    wsUrl: `ws://127.0.0.1:${port}/llm-websocket`,
    httpUrl,
    child,
    output: () => chunks.join(''),
    exited,
    async scrape() {
      const res = await fetch(`${httpUrl}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      return res.text();
    },
    async metric(name: string) {
      return readMetric(await service.scrape(), name);
    },
    async heapAfterGc() {
      const collections = () => service.output().split(GC_DONE).length - 1;
      const before = collections();
      child.kill('SIGUSR2');
      await eventually(() => expect(collections()).toBeGreaterThan(before), 10_000, 10);
      return (await service.metric('nodejs_heap_size_used_bytes'))!;
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };

  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  // Several processes starting through ts-node on a shared machine take longer.
  const startUpSeconds = options.workers === undefined ? 30 : 90;
  const deadline = Date.now() + startUpSeconds * 1000;
  const answered = new Set<number | undefined>();
  for (;;) {
    if (exitedEarly) throw new Error(`service exited during start-up:\n${service.output().slice(-3000)}`);
    if (Date.now() > deadline) {
      service.kill('SIGKILL');
      throw new Error(`service did not start within ${startUpSeconds} s:\n${service.output().slice(-3000)}`);
    }
    try {
      // A connection of its own each time: the primary hands each one to the next worker listening.
      const { status, body } = await getOnNewConnection(`${httpUrl}/health/live`);
      if (status === 200) answered.add((JSON.parse(body) as { worker?: number }).worker);
      if (answered.size === (options.workers ?? 1)) return service;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A GET on a connection of its own (never one kept alive from before). */
export function getOnNewConnection(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer from ${url} within 5 s`)));
  });
}

/** Stops the process if a test left it running (SIGKILL after 15 s of SIGTERM). */
export async function stopService(service: ServiceProcess | undefined): Promise<void> {
  if (!service || service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.kill('SIGTERM');
  const timer = setTimeout(() => service.kill('SIGKILL'), 15_000);
  await service.exited;
  clearTimeout(timer);
}

/** One sample of a Prometheus text exposition, e.g. `millis_calls_active` or `x{reason="capacity"}`. */
export function readMetric(text: string, name: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === name) return Number(line.slice(space + 1));
  }
  return undefined;
}

/** Opens `count` things with at most `concurrency` in flight. */
export async function inBatches<T>(count: number, concurrency: number, open: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await open(i);
      }
    }),
  );
  return results;
}
