import WebSocket from 'ws';
import { webSocketText } from '../src/common/web-socket-text';

/** Node flag that opens the DevTools endpoint on a free loopback port (printed on stderr). */
export const INSPECT_FLAG = '--inspect=127.0.0.1:0';

/** The DevTools address in what a process started with INSPECT_FLAG wrote, if it is there yet. */
export function findInspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/**
 * Every DevTools address a process tree announces on its output, in order. Cluster workers
 * inherit the primary's execArgv, and Node's cluster gives each worker its own inspector
 * port (the primary's port + 1, + 2, ...): each prints its own "Debugger listening on" line
 * on the stderr they share. A worker whose port is taken prints "Starting inspector on ...
 * failed" instead and runs without one.
 */
export class InspectorAddresses {
  readonly urls: string[] = [];
  failed = 0;
  private partial = '';

  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const url = findInspectorUrl(line);
      if (url && !this.urls.includes(url)) this.urls.push(url);
      if (/Starting inspector on .* failed/.test(line)) this.failed++;
    }
  }
}

/**
 * Heap after GC summed over several processes (a cluster's primary and workers), each read
 * in turn. NaN unless every address answers: a sum with a process missing would be wrong.
 */
export async function heapAfterGcAll(inspectorUrls: string[]): Promise<number> {
  if (inspectorUrls.length === 0) return NaN;
  let total = 0;
  for (const url of inspectorUrls) {
    try {
      total += await heapAfterGc(url);
    } catch {
      return NaN;
    }
  }
  return total;
}

/**
 * Bytes of JavaScript heap another Node process still uses after full garbage collections,
 * read through the DevTools protocol: the process exposes no hook of its own, and the
 * inspector does nothing in it while no session is attached. Two collections, each its own
 * task, so FinalizationRegistry callbacks and cleared WeakRefs of the first are collected by
 * the second.
 */
export async function heapAfterGc(inspectorUrl: string): Promise<number> {
  const session = await DevToolsSession.open(inspectorUrl);
  try {
    await session.call('HeapProfiler.collectGarbage');
    await session.call('HeapProfiler.collectGarbage');
    const usage = (await session.call('Runtime.getHeapUsage')) as { usedSize: number };
    return usage.usedSize;
  } finally {
    session.close();
  }
}

/** The few DevTools calls we make: request, response by id; no domain is enabled, so no events. */
class DevToolsSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(webSocketText(raw)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id!);
      if (message.error) waiter.reject(new Error(`DevTools: ${message.error.message}`));
      else waiter.resolve(message.result);
    });
    socket.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('DevTools session closed'));
      this.pending.clear();
    });
  }

  static open(url: string): Promise<DevToolsSession> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new DevToolsSession(socket)));
      socket.once('error', reject);
    });
  }

  call(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
