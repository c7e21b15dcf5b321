import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { describeError } from '../common/describe-error';
import { isPrivateAddress, publicOnlyLookup } from './webhook-url';

export interface AttemptOutcome {
  /** The receiver's HTTP status, or null when no answer came (refused, timed out, reset). */
  statusCode: number | null;
  latencyMs: number;
  /** Null when the receiver answered 2xx. Our own words: never the receiver's body. */
  error: string | null;
}

export interface SendRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
}

/**
 * One POST of one delivery, bounded by `timeoutMs` from start to the last byte of the answer.
 * Redirects are not followed (a 3xx is a failed attempt): the signed URL is the one configured.
 */
export function postWebhook(request: SendRequest): Promise<AttemptOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (statusCode: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ statusCode, latencyMs: elapsed(), error });
    };
    const url = new URL(request.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!request.allowPrivate && isIP(host) && isPrivateAddress(host)) {
      resolve({ statusCode: null, latencyMs: 0, error: `${host} is a loopback, private or reserved address` });
      return;
    }
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, {
      method: 'POST',
      headers: { ...request.headers, 'Content-Length': String(Buffer.byteLength(request.body)) },
      lookup: request.allowPrivate ? undefined : publicOnlyLookup,
      agent: false,
    });
    const timer = setTimeout(() => {
      finish(null, `no answer within ${request.timeoutMs} ms`);
      req.destroy();
    }, request.timeoutMs);
    req.on('response', (res) => {
      // The body is read and dropped: only the status counts, and the socket must be freed.
      res.resume();
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        finish(code, code >= 200 && code < 300 ? null : `HTTP ${code}`);
      });
      res.on('error', (error) => finish(res.statusCode ?? null, describeError(error)));
    });
    req.on('error', (error) => finish(null, describeError(error)));
    req.end(request.body);
  });
}
