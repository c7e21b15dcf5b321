import { INestApplicationContext, Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { IncomingMessage } from 'node:http';
import { AppConfig } from '../config/app-config';
import { parseInboundFrame } from '../protocol/frame-parser';

/** Frames past this multiple of WS_MAX_PAYLOAD are not even read: the socket closes (1009). */
const SOCKET_PAYLOAD_FACTOR = 4;

type WsServer = { on(event: string, listener: (...args: any[]) => void): unknown };
export type VerifyCallback = (result: boolean, code?: number, message?: string) => void;

/**
 * The platform's `{type, data}` frames routed to `@SubscribeMessage(type)` handlers, a
 * socket-level size guard, and a `verifyClient` hook for checks before a socket exists
 * (the service's admission rules live in ProtectedWsAdapter).
 */
export class MillisWsAdapter extends WsAdapter {
  private readonly wsLogger = new Logger('CallSocket');

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app, {
      // Never returns nothing: an unusable frame becomes an `invalid` event so it is recorded.
      messageParser: (raw) => parseInboundFrame(raw as string | Buffer, { maxFrameBytes: config.ws.maxFrameBytes }),
    });
  }

  override create(port: number, options: Record<string, unknown> = {}) {
    return super.create(port, {
      ...options,
      maxPayload: this.config.ws.maxFrameBytes * SOCKET_PAYLOAD_FACTOR,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => this.verifyClient(info.req, done),
    });
  }

  /** A peer's protocol error (e.g. an oversized frame) is the peer's problem: one line, no stack. */
  override bindErrorHandler(server: WsServer): WsServer {
    server.on('connection', (socket: { on(event: 'error', fn: (error: Error) => void): void }) =>
      socket.on('error', (error) => this.wsLogger.warn(`WebSocket closed on protocol error: ${error.message}`)),
    );
    server.on('error', (error: Error) => this.wsLogger.error(error));
    return server;
  }

  /** Accepts every upgrade; a subclass decides who may call. */
  protected verifyClient(_req: IncomingMessage, done: VerifyCallback): void {
    done(true);
  }
}
