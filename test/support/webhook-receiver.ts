import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request's body had fully arrived. */
  at: number;
}

/**
 * A webhook receiver in the test process: a real node:http server that records every request
 * and answers `status` (200 unless the test says otherwise). `stop()` then `start()` again takes
 * it down for a while on the same port, as a receiver that is down and comes back.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  status = 200;
  private server?: http.Server;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() });
        res.writeHead(this.status, { 'Content-Type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** What was received for one event (by its Webhook-Id header or its payload type). */
  forType(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => (JSON.parse(r.body) as { type: string }).type === type);
  }
}
