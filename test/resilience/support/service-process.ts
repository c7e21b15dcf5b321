import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_DATABASE_URL } from '../../support/test-database';

const ROOT = resolve(__dirname, '../../..');
export const METRICS_TOKEN = 'metrics-token-for-tests-0123';

export interface ServiceProcess {
  port: number;
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

/** A free loopback port (released just before the service binds it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * The service as production runs it: its own Node process (src/main.ts through ts-node,
 * no build), real Postgres, real sockets. Resolves once /health/live answers.
 */
export async function spawnService(env: Record<string, string> = {}, options: { port?: number; nodeArgs?: string[] } = {}): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
  // e.g. OPS_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the service under a test.
  const nodeArgs = [...(options.nodeArgs ?? []), ...(process.env.OPS_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
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
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout!.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const httpUrl = `http://127.0.0.1:${port}`;
  const service: ServiceProcess = {
    port,
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
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 300));
      return (await service.metric('nodejs_heap_size_used_bytes'))!;
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };

  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitedEarly) throw new Error(`service exited during start-up:\n${service.output().slice(-3000)}`);
    if (Date.now() > deadline) {
      service.kill('SIGKILL');
      throw new Error(`service did not start within 30 s:\n${service.output().slice(-3000)}`);
    }
    try {
      const res = await fetch(`${httpUrl}/health/live`);
      if (res.ok) return service;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
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
