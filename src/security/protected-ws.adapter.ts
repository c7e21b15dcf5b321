import { INestApplicationContext, Logger } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { EMPTY, Observable } from 'rxjs';
import type { WebSocket, WebSocketServer } from 'ws';
import { MillisWsAdapter, VerifyCallback } from '../calls/millis-ws.adapter';
import { AppConfig } from '../config/app-config';
import type { InvalidFrame, ParsedFrame } from '../protocol/inbound-frames';
import { CallLogContext } from '../observability/call-log-context';
import { MetricsService } from '../observability/metrics.service';
import { markPeerLost } from '../observability/peer-liveness';
import { CallAdmission } from './call-admission.service';
import { FrameRateLimiter } from './frame-rate-limiter';

/** Dropped frames are recorded as one `invalid` row per connection and per this window. */
const DROP_SUMMARY_WINDOW_MS = 1_000;

interface SocketState {
  context?: CallLogContext;
  limiter: FrameRateLimiter;
  alive: boolean;
  dropped: number;
  droppedBytes: number;
  summaryTimer?: NodeJS.Timeout;
  invalidHandler?: MessageMappingProperties;
}

/**
 * MillisWsAdapter with what a public endpoint needs around each connection: admission at
 * the upgrade (address allow-list, token, draining, MAX_CALLS, audit backlog), a frame rate
 * limit, ping/pong to find dead peers, and the per-call logging context.
 */
export class ProtectedWsAdapter extends MillisWsAdapter {
  private readonly socketLogger = new Logger('CallSocket');
  private readonly sockets = new Map<WebSocket, SocketState>();
  private readonly security: AppConfig['security'];
  private pingTimer?: NodeJS.Timeout;

  constructor(
    app: INestApplicationContext,
    config: AppConfig,
    private readonly admission: CallAdmission,
    private readonly metrics: MetricsService,
  ) {
    super(app, config);
    this.security = config.security;
    const parse = this.messageParser;
    this.setMessageParser((data) => {
      const frame = parse(data) as ParsedFrame;
      if (frame.event === 'start_call') CallLogContext.current()?.bindSession(frame.data.session_id);
      return frame;
    });
  }

  /** Open call connections on this instance. */
  get openConnections(): number {
    return this.sockets.size;
  }

  override create(port: number, options: Record<string, unknown> = {}) {
    const server = super.create(port, options) as WebSocketServer;
    server.on('connection', (socket: WebSocket) => this.track(socket));
    this.startPinging();
    return server;
  }

  protected override verifyClient(req: IncomingMessage, done: VerifyCallback): void {
    const refusal = this.admission.check(req, this.sockets.size);
    if (refusal) return done(false, refusal.status, CallAdmission.statusText(refusal.status));
    done(true);
  }

  override bindMessageHandler(
    event: { data: unknown; target: WebSocket },
    handlers: Map<string, MessageMappingProperties>,
    transform: (data: any) => Observable<any>,
  ): Observable<any> {
    const state = this.sockets.get(event.target);
    if (state) {
      state.alive = true;
      if (!state.limiter.take()) {
        this.drop(state, event.data, handlers);
        return EMPTY;
      }
    }
    return super.bindMessageHandler(event, handlers, transform);
  }

  override async dispose(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const state of this.sockets.values()) clearTimeout(state.summaryTimer);
    await super.dispose();
  }

  private track(socket: WebSocket): void {
    const context = CallLogContext.create();
    const state: SocketState = {
      context,
      limiter: new FrameRateLimiter(this.security.maxFramesPerSecond, this.security.frameBurst),
      alive: true,
      dropped: 0,
      droppedBytes: 0,
    };
    this.sockets.set(socket, state);
    if (context) {
      // Every listener of this socket (frames, pong, close) runs in the call's logging context.
      const emit = socket.emit;
      socket.emit = function (this: WebSocket, ...args: Parameters<WebSocket['emit']>) {
        return context.run(() => emit.apply(this, args));
      } as WebSocket['emit'];
    }
    socket.on('pong', () => (state.alive = true));
    socket.once('close', () => {
      this.reportDrops(state);
      this.sockets.delete(socket);
    });
  }

  /** Over the limit: not parsed, not answered; counted, and summarised once per window. */
  private drop(state: SocketState, data: unknown, handlers: Map<string, MessageMappingProperties>): void {
    state.dropped += 1;
    state.droppedBytes += typeof data === 'string' ? Buffer.byteLength(data) : ((data as { length?: number })?.length ?? 0);
    state.invalidHandler ??= handlers.get('invalid');
    this.metrics.framesRejected.inc({ reason: 'rate_limited' });
    if (!state.summaryTimer) {
      state.summaryTimer = setTimeout(() => this.reportDrops(state), DROP_SUMMARY_WINDOW_MS);
      state.summaryTimer.unref();
    }
  }

  private reportDrops(state: SocketState): void {
    clearTimeout(state.summaryTimer);
    state.summaryTimer = undefined;
    if (state.dropped === 0 || !state.invalidHandler) return;
    const { maxFramesPerSecond, frameBurst } = this.security;
    const frame: InvalidFrame = {
      reason: 'rate_limited',
      detail: `${state.dropped} frame(s) dropped: over ${maxFramesPerSecond} frames/s (burst ${frameBurst})`,
      received: { dropped: state.dropped, window_ms: DROP_SUMMARY_WINDOW_MS },
      bytes: state.droppedBytes,
    };
    state.dropped = 0;
    state.droppedBytes = 0;
    const handler = state.invalidHandler;
    const record = () => Promise.resolve(handler.callback(frame, 'invalid')).catch(() => undefined);
    if (state.context) state.context.run(record);
    else void record();
  }

  private startPinging(): void {
    const interval = this.security.pingIntervalMs;
    if (interval === 0 || this.pingTimer) return;
    this.pingTimer = setInterval(() => this.pingAll(), interval);
    this.pingTimer.unref();
  }

  /** A peer that answered neither the previous ping nor with any frame since is gone. */
  private pingAll(): void {
    for (const [socket, state] of this.sockets) {
      if (socket.readyState !== socket.OPEN) continue;
      if (!state.alive) {
        markPeerLost(socket);
        this.metrics.peersLost.inc();
        const warn = () => this.socketLogger.warn('Peer missed a ping: connection terminated (peer_lost)');
        if (state.context) state.context.run(warn);
        else warn();
        socket.terminate();
        continue;
      }
      state.alive = false;
      try {
        socket.ping();
      } catch {
        // The socket is closing; its close event ends the call.
      }
    }
  }
}
