import WebSocket from 'ws';
import { webSocketText } from '../../src/common/web-socket-text';
import type { OutboundFrame, StreamResponseData } from '../../src/protocol/outbound-frames';

export interface ConnectOptions {
  token?: string;
  headers?: Record<string, string>;
}

/**
 * Plays the Millis platform's side of a call over a real WebSocket: sends frames,
 * keeps every frame received, and waits for a stream's end.
 */
export class MillisPlatformClient {
  readonly received: OutboundFrame[] = [];
  private waiters: Array<() => void> = [];
  closeCode: number | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.received.push(JSON.parse(webSocketText(data)) as OutboundFrame);
      this.notify();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.notify();
    });
  }

  static connect(url: string, options: ConnectOptions = {}): Promise<MillisPlatformClient> {
    const target = options.token ? `${url}?token=${encodeURIComponent(options.token)}` : url;
    const socket = new WebSocket(target, { headers: options.headers });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new MillisPlatformClient(socket)));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  startCall(data: { stream_id?: number; session_id: string; agent_id?: string; [key: string]: unknown }): void {
    this.send({ type: 'start_call', data: { stream_id: 0, agent_id: 'agent-1', ...data } });
  }

  streamRequest(streamId: number, transcript: Array<{ role: 'user' | 'assistant'; content: string }>): void {
    this.send({ type: 'stream_request', data: { stream_id: streamId, transcript } });
  }

  interrupt(streamId: number): void {
    this.send({ type: 'interrupt', stream_id: streamId });
  }

  responses(streamId: number): StreamResponseData[] {
    return this.received
      .filter((f): f is Extract<OutboundFrame, { type: 'stream_response' }> => f.type === 'stream_response')
      .map((f) => f.data)
      .filter((d) => d.stream_id === streamId);
  }

  textOf(streamId: number): string {
    return this.responses(streamId)
      .map((d) => d.content)
      .join('');
  }

  /** Resolves with the full text once the stream's end_of_stream frame has arrived. */
  async waitForEnd(streamId: number, timeoutMs = 5000): Promise<string> {
    await this.waitUntil(
      () => this.responses(streamId).some((d) => d.end_of_stream),
      timeoutMs,
      `end of stream ${streamId}`,
    );
    return this.textOf(streamId);
  }

  async waitUntil(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * A quiet window before asserting that nothing more came (no more frames for a stream, no
   * reply to a stale request). An absence has no event to wait for, so this one wait is on
   * time; anything that should happen is waited for with waitUntil / waitForEnd instead.
   */
  async settle(ms = 150): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close(1000);
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
