import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import { PinoLogger, type Params } from 'nestjs-pino';
import { pinoHttp, type Options } from 'pino-http';
import pino, { type DestinationStream, type Level } from 'pino';
import type { AppConfig } from '../config/app-config';
import { buildLogScrubber, pathForLog } from './log-scrubber';

const PINO_LEVEL: Record<AppConfig['logLevel'], Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT as it applies to this process: auto is pretty on a terminal outside production
 * and JSON lines otherwise (pipes, containers, log collectors). Pretty needs pino-pretty;
 * without it (a production install), JSON.
 */
export function logFormat(config: AppConfig, stdoutIsTty = process.stdout.isTTY === true): LogFormat {
  const wanted =
    config.logging.format === 'auto' ? (stdoutIsTty && !config.production ? 'pretty' : 'json') : config.logging.format;
  return wanted === 'pretty' && prettyFactory() ? 'pretty' : 'json';
}

/** Request as logged by pino-http (after its own serializer). */
interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
  remotePort?: number;
}

type RawRequest = IncomingMessage & { originalUrl?: string };

/**
 * nestjs-pino settings: JSON lines on stdout (or pretty, see logFormat), every line scrubbed.
 * Its request middleware is left out (`forRoutes: []`): it runs each request inside an
 * AsyncLocalStorage, which on Node 20 turns on promise hooks for the whole process, calls
 * included. Requests are logged by `requestLogger` instead.
 */
export function loggingParams(config: AppConfig): Params {
  return { pinoHttp: [{ level: PINO_LEVEL[config.logLevel] }, scrubbingDestination(config)], forRoutes: [] };
}

/**
 * Request logs through the root logger: the path only (never the query string), phone numbers
 * in it masked, credentials redacted, probes and scrapes left out.
 */
export function requestLogger(config: AppConfig): RequestHandler {
  let handler: RequestHandler | undefined;
  // The root logger exists once the app is initialised; the first request comes after that.
  return (req, res, next) => {
    handler ??= pinoHttp({ ...requestLoggingOptions(config), logger: PinoLogger.root });
    handler(req, res, next);
  };
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

function requestLoggingOptions(config: AppConfig): Options {
  const path = (req: RawRequest) => pathForLog(req.originalUrl ?? req.url, config.logging.pii);
  return {
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'req.headers.referer'],
      censor: '[redacted]',
    },
    serializers: {
      // The query string carries tokens, search words and phone numbers: it is never logged.
      req: (req: SerializedRequest) => ({
        id: req.id,
        method: req.method,
        url: pathForLog(req.url, config.logging.pii),
        headers: req.headers,
        remoteAddress: req.remoteAddress,
        remotePort: req.remotePort,
      }),
      // The status is what matters; the security headers of every response are noise.
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    customSuccessMessage: (req: RawRequest, res: ServerResponse, ms: number) =>
      `${req.method} ${path(req)} ${res.statusCode} ${Math.round(ms)} ms`,
    customErrorMessage: (req: RawRequest, res: ServerResponse, error: Error) =>
      `${req.method} ${path(req)} ${res.statusCode} failed: ${error.message}`,
    // Probes and scrapes every few seconds would drown everything else.
    autoLogging: { ignore: (req: IncomingMessage) => /^\/(health|metrics)(\/|\?|$)/.test(req.url ?? '') },
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
  };
}

/**
 * Nest announces every module, route and message handler at start-up (some 60 lines): detail
 * for LOG_LEVEL=debug. Everything else passes through unchanged.
 */
const FRAMEWORK_START_UP = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'WebSocketsController',
  'NestFactory',
  'NestApplication',
]);

export class ServiceLogger implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    if (typeof context === 'string' && FRAMEWORK_START_UP.has(context)) this.inner.debug?.(message, ...params);
    else this.inner.log(message, ...params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.inner.error(message, ...params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.inner.warn(message, ...params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.inner.debug?.(message, ...params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.inner.verbose?.(message, ...params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    (this.inner.fatal ?? this.inner.error).call(this.inner, message, ...params);
  }
}

function scrubbingDestination(config: AppConfig): DestinationStream {
  const scrub = buildLogScrubber({
    secrets: [
      config.ws.authToken,
      config.api.key,
      config.security.metricsToken,
      config.llm.apiKey,
      ...config.llm.secrets,
      databasePassword(config.database.url),
    ],
    pii: config.logging.pii,
  });
  // Synchronous writes: a line logged just before process.exit() is not lost.
  const out = logFormat(config) === 'pretty' ? prettyStream() : pino.destination({ dest: 1, sync: true });
  return { write: (line: string) => void out.write(scrub(line)) };
}

type PrettyFactory = (options: object) => DestinationStream;

/** pino-pretty, when it is installed. */
function prettyFactory(): PrettyFactory | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: a dev dependency, absent from a production install
    return require('pino-pretty') as PrettyFactory;
  } catch {
    return undefined;
  }
}

/** One line a record: time, level, [context] (session) message; request details stay in JSON mode. */
function prettyStream(): DestinationStream {
  return prettyFactory()!({
    // Colours only where they render (pino-pretty's default looks at the terminal).
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context,session_id,req,res,responseTime',
    messageFormat: (log: Record<string, unknown>, messageKey: string) => {
      const context = fieldText(log.context);
      const sessionId = fieldText(log.session_id);
      return `${context ? `[${context}] ` : ''}${sessionId ? `(${sessionId}) ` : ''}${fieldText(log[messageKey])}`;
    },
  });
}

/** A record's field as text: strings as they are, other values as JSON, nothing as ''. */
function fieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function databasePassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
