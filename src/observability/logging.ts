import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino, { type DestinationStream, type Level } from 'pino';
import type { AppConfig } from '../config/app-config';
import { buildLogScrubber } from './log-scrubber';

const PINO_LEVEL: Record<AppConfig['logLevel'], Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * nestjs-pino settings: JSON lines on stdout (pretty with LOG_FORMAT=pretty or
 * NODE_ENV=development), request logs without credentials, every line scrubbed.
 */
export function loggingParams(config: AppConfig): Params {
  return {
    pinoHttp: [
      {
        level: PINO_LEVEL[config.logLevel],
        redact: {
          paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'req.query.token', 'res.headers["set-cookie"]'],
          censor: '[redacted]',
        },
        // Probes and scrapes every few seconds would drown everything else.
        autoLogging: { ignore: (req: IncomingMessage) => /^\/(health|metrics)(\/|\?|$)/.test(req.url ?? '') },
        customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      },
      scrubbingDestination(config),
    ],
  };
}

function scrubbingDestination(config: AppConfig): DestinationStream {
  const scrub = buildLogScrubber({
    secrets: [config.ws.authToken, config.api.key, config.security.metricsToken, config.llm.apiKey, databasePassword(config.database.url)],
    pii: config.logging.pii,
  });
  const target = config.logging.format === 'pretty' ? prettyStream() : undefined;
  // Synchronous writes: a line logged just before process.exit() is not lost.
  const out = target ?? pino.destination({ dest: 1, sync: true });
  return { write: (line: string) => void out.write(scrub(line)) };
}

/** pino-pretty is a development dependency: without it, JSON. */
function prettyStream(): DestinationStream | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as (options: object) => DestinationStream;
    return pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

function databasePassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
