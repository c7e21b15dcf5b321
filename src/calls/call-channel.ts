import type { OutboundFrame } from '../protocol/outbound-frames';

/** The one way CallService talks back to the platform; the gateway adapts a WebSocket to it. */
export interface CallChannel {
  send(frame: OutboundFrame): void;
  close(code: number, reason: string): void;
}
