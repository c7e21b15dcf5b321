import { EventEmitter } from 'node:events';
import type { CallSocket } from '../../src/call-socket/call-connection';
import type { OutboundFrame, StreamResponseData } from '../../src/protocol/outbound-frames';

const OPEN = 1;
const CLOSED = 3;

/**
 * A WebSocket as a call connection sees it, for unit tests: records what is sent, and lets
 * the test play the peer (hang up, answer pings or not).
 */
export class FakeCallSocket extends EventEmitter implements CallSocket {
  readyState = OPEN;
  readonly sent: OutboundFrame[] = [];
  readonly closedWith: Array<{ code: number; reason: string }> = [];
  pings = 0;
  terminated = false;

  send(data: string): void {
    this.sent.push(JSON.parse(data) as OutboundFrame);
  }

  /** Our side closing: the close event comes once the peer answers (`peerCloses`) or at once with `terminate`. */
  close(code: number, reason: string): void {
    this.closedWith.push({ code, reason });
    this.readyState = 2;
  }

  terminate(): void {
    this.terminated = true;
    this.peerCloses(1006);
  }

  ping(): void {
    this.pings += 1;
  }

  /** The peer answers the last ping. */
  pong(): void {
    this.emit('pong');
  }

  /** The socket closes with `code` (the platform hung up, or the close handshake ended). */
  peerCloses(code: number): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.emit('close', code);
  }

  /** stream_response payloads sent for one stream. */
  responses(streamId: number): StreamResponseData[] {
    return this.sent.flatMap((f) => (f.type === 'stream_response' && f.data.stream_id === streamId ? [f.data] : []));
  }
}
