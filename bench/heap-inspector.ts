import WebSocket from 'ws';

/** Node flag that opens the DevTools endpoint on a free loopback port (printed on stderr). */
export const INSPECT_FLAG = '--inspect=127.0.0.1:0';

/** The DevTools address in what a process started with INSPECT_FLAG wrote, if it is there yet. */
export function findInspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
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
      const message = JSON.parse(raw.toString()) as { id?: number; result?: unknown; error?: { message: string } };
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
