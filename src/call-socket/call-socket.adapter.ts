import { INestApplicationContext, Logger, WebSocketAdapter } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { webSocketText } from '../common/web-socket-text';
import { AppConfig } from '../config/app-config';
import { parseInboundFrame } from '../protocol/frame-parser';
import { CallAdmission } from './call-admission.service';
import { CallService } from './call.service';

/** Frames past this multiple of WS_MAX_PAYLOAD are not even read: the socket closes (1009). */
const SOCKET_PAYLOAD_FACTOR = 4;

interface GatewayOptions {
  path?: string;
}

type VerifyCallback = (result: boolean, code?: number, message?: string) => void;

/**
 * The call socket, on `ws` directly. Routes each frame to the gateway's
 * `@SubscribeMessage(type)` handler, after the frame's connection admitted it (rate limit,
 * liveness) and the protocol parser turned it into a typed frame or an `invalid` one.
 * Admission (address, token, draining, capacity, audit backlog) runs at the upgrade, before
 * a socket exists. A connection has one close path: its own (see CallConnection).
 */
export class CallSocketAdapter implements WebSocketAdapter<WebSocketServer, WebSocket, GatewayOptions> {
  private readonly logger = new Logger('CallSocket');
  private readonly servers = new Map<string, WebSocketServer>();
  private readonly maxFrameBytes: number;

  constructor(
    private readonly app: INestApplicationContext & { getHttpServer(): HttpServer },
    config: AppConfig,
    private readonly admission: CallAdmission,
    private readonly calls: CallService,
  ) {
    this.maxFrameBytes = config.ws.maxFrameBytes;
  }

  create(_port: number, options: GatewayOptions = {}): WebSocketServer {
    const path = options.path ?? '/';
    const server = new WebSocketServer({
      noServer: true,
      maxPayload: this.maxFrameBytes * SOCKET_PAYLOAD_FACTOR,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => this.verify(info.req, done),
    });
    // A peer's protocol error (e.g. an oversized frame) is the peer's problem: one line, no stack.
    server.on('connection', (socket: WebSocket) =>
      socket.on('error', (error) => this.logger.warn(`WebSocket closed on protocol error: ${error.message}`)),
    );
    server.on('error', (error) => this.logger.error(error));
    if (this.servers.size === 0) this.bindUpgrade();
    this.servers.set(path, server);
    return server;
  }

  bindClientConnect(server: WebSocketServer, callback: (socket: WebSocket, req: IncomingMessage) => void): void {
    server.on('connection', callback);
  }

  bindMessageHandlers(socket: WebSocket, handlers: MessageMappingProperties[]): void {
    const routes = new Map<string, MessageMappingProperties['callback']>();
    for (const handler of handlers) routes.set(String(handler.message), handler.callback);
    const call = this.calls.connectionOf(socket);
    const options = { maxFrameBytes: this.maxFrameBytes };
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (call && !call.admitFrame(rawLength(data))) return;
      const frame = parseInboundFrame(isBinary ? data : webSocketText(data), options);
      const route = routes.get(frame.event);
      if (!route) return;
      try {
        // Handlers return nothing: every frame we send goes out through the call's connection.
        void Promise.resolve(route(frame.data, frame.event)).catch((error: unknown) => this.handlerFailed(error));
      } catch (error) {
        this.handlerFailed(error);
      }
    });
  }

  /** A client that connected while the app was still starting: nothing serves it yet. */
  closeClient(socket: WebSocket): void {
    socket.terminate();
  }

  async close(server: WebSocketServer): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of server.clients) socket.terminate();
    await closed;
  }

  dispose(): void {
    this.servers.clear();
  }

  private verify(req: IncomingMessage, done: VerifyCallback): void {
    const refusal = this.admission.check(req, this.calls.activeCalls);
    if (refusal) return done(false, refusal.status, CallAdmission.statusText(refusal.status));
    done(true);
  }

  /** One upgrade listener on the HTTP server for every gateway path; other paths are refused. */
  private bindUpgrade(): void {
    this.app.getHttpServer().on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const server = this.servers.get(pathOf(req));
      if (!server) {
        socket.destroy();
        return;
      }
      server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req));
    });
  }

  private handlerFailed(error: unknown): void {
    // Handlers catch what a frame can cause; reaching here is a bug of ours, not the caller's.
    this.logger.error(`frame handler failed: ${error instanceof Error ? error.stack : String(error)}`);
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** A text frame's characters: ws hands it over in the socket's binary type (a single Buffer by default). */
function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}
