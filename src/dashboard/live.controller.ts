import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { LiveCallsService } from './live-calls.service';

/** A client this far behind is dropped (it reconnects and starts again from a snapshot). */
export const MAX_BUFFERED_BYTES = 256 * 1024;
const HEARTBEAT_MS = 15_000;

/** What the stream uses of Express's request: it ends when the client goes. */
export interface EventStreamRequest {
  on(event: 'close', listener: () => void): unknown;
}

/** What the stream uses of Express's response. */
export interface EventStreamResponse {
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
  readonly writableLength: number;
  readonly socket?: { setNoDelay(noDelay?: boolean): unknown } | null;
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
  flushHeaders(): void;
  write(chunk: string): boolean;
  end(): unknown;
  destroy(): unknown;
}

@ApiTags('live')
@RequireApiKey()
@Controller('api/live')
export class LiveController {
  constructor(private readonly live: LiveCallsService) {}

  @Get()
  @ApiOperation({
    summary: 'Calls in progress, as server-sent events',
    description:
      'First a `snapshot` of the calls in progress on every instance sharing the database (and every worker, ' +
      'with WORKERS), then ' +
      '`call_started`, `reply_started`, `reply_piece` (each piece as it is sent to the caller), `reply_finished` ' +
      '(with the whole reply text) and `call_ended`. ' +
      'Send the key as a header: read the stream with fetch(), not EventSource.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An endless text/event-stream; each `data:` line is JSON.' })
  stream(@Req() req: EventStreamRequest, @Res() res: EventStreamResponse): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.socket?.setNoDelay(true);

    const client = {
      // Called from inside the call path: write and return, never wait for the socket.
      send: (chunk: string): boolean => {
        if (res.destroyed || res.writableEnded) return false;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          res.destroy();
          return false;
        }
        res.write(chunk);
        return true;
      },
      close: () => res.end(),
    };
    const heartbeat = setInterval(() => client.send(': keep-alive\n\n') || this.live.remove(client), HEARTBEAT_MS);
    heartbeat.unref();
    req.on('close', () => {
      clearInterval(heartbeat);
      this.live.remove(client);
    });
    this.live.add(client);
  }
}
