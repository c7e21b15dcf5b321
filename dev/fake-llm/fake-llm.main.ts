import { parseArgs } from 'node:util';
import { describeError } from '../../src/common/describe-error';
import { DIALECTS, FAKE_DIALECTS, isFakeDialect } from './fake-llm-dialects';
import { FakeLlmServer } from './fake-llm-server';
import type { FakeLlmOptions } from './fake-llm-scenario';

/**
 * `npm run fake-llm`: an OpenAI-compatible server for trying the service without a
 * provider. Its pace is a person's: slow enough to hear a reply start and to cut in.
 * The tests and the benchmark set their own delays.
 */
export const CLI_DEFAULTS = { port: 8089, host: '127.0.0.1', firstTokenMs: 450, tokenMs: 80 } as const;

export const USAGE = `Usage: npm run fake-llm -- [options]

An OpenAI-compatible chat-completions server (POST /v1/chat/completions, streaming or not;
GET /v1/models). Point the service at it with OPENAI_BASE_URL=http://HOST:PORT/v1.

Options:
  --port N              port to listen on (default ${CLI_DEFAULTS.port}; 0 = any free port)
  --host ADDRESS        interface to bind (default ${CLI_DEFAULTS.host})
  --first-token-ms N    delay before the first token of a reply, in ms (default ${CLI_DEFAULTS.firstTokenMs})
  --token-ms N          delay between tokens, in ms (default ${CLI_DEFAULTS.tokenMs})
  --echo                reply "You said: <the caller's last words>." instead of conversational replies
  --reply TEXT          reply TEXT to every request (wins over --echo)
  --dialect NAME        write the stream as a provider does: ${FAKE_DIALECTS.join(', ')}
                        (default openai; reasoning dialects think aloud before answering)
  --stall-first-tokens SHARE   never send the first token of this share of requests, 0 to 1,
                        spread evenly (a provider that stalls; for failover benchmarks)
  -h, --help            print this help and exit

Replies: a greeting while the conversation has no assistant message yet, then a few sentences
chosen by the caller's words (opening hours, booking, prices, address, a person, thanks, bye).
Markers in the caller's last message steer a reply, e.g. typed in \`npm run call\`:
  [fake:tokens N]       a reply of exactly N tokens
  [fake:error STATUS]   fail with that HTTP status (e.g. 500, 429)
  [fake:cut N]          drop the connection after N tokens
  [fake:hang N]         go silent after N tokens
  [fake:tool NAME {"json":"arguments"}]   ask for a tool call (repeat for parallel calls)
A 429 ([fake:error 429]) carries retry-after: 1. A reply longer than the request's max_tokens
stops there with finish_reason "length". Azure's path (/openai/deployments/NAME/chat/completions
?api-version=..., key in the api-key header) is served too.`;

export class UsageError extends Error {}

/** The server options from the command line, or null when help was asked for. */
export function parseFakeLlmArgs(argv: string[]): Partial<FakeLlmOptions> | null {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(describeError(error));
  }
  const { values } = parsed;
  if (values.help) return null;
  const dialect = values.dialect;
  if (dialect !== undefined && !isFakeDialect(dialect))
    throw new UsageError(`--dialect must be one of ${FAKE_DIALECTS.join(', ')}, got "${dialect}"`);
  return {
    port: nonNegative(values.port, CLI_DEFAULTS.port, '--port'),
    host: values.host ?? CLI_DEFAULTS.host,
    firstTokenDelayMs: nonNegative(values['first-token-ms'], CLI_DEFAULTS.firstTokenMs, '--first-token-ms'),
    tokenDelayMs: nonNegative(values['token-ms'], CLI_DEFAULTS.tokenMs, '--token-ms'),
    replyStyle: values.echo ? 'echo' : 'conversation',
    defaultReply: values.reply,
    ...(dialect !== undefined ? { dialect } : {}),
    ...(values['stall-first-tokens'] !== undefined
      ? { stallFirstTokens: share(values['stall-first-tokens'], '--stall-first-tokens') }
      : {}),
  };
}

function share(value: string, name: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new UsageError(`${name} must be a number from 0 to 1, got "${value}"`);
  return n;
}

export const FAKE_LLM_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'first-token-ms': { type: 'string' },
  'token-ms': { type: 'string' },
  echo: { type: 'boolean' },
  reply: { type: 'string' },
  dialect: { type: 'string' },
  'stall-first-tokens': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[]) {
  return parseArgs({ args: argv, strict: true, allowPositionals: false, options: FAKE_LLM_FLAGS });
}

function nonNegative(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new UsageError(`${name} must be a whole number of 0 or more, got "${value}"`);
  }
  return n;
}

async function main(argv: string[]): Promise<void> {
  const options = parseFakeLlmArgs(argv);
  if (!options) {
    console.log(USAGE);
    return;
  }
  const server = new FakeLlmServer(options);
  const url = await server.start();
  const style = options.defaultReply !== undefined ? 'a fixed reply' : `${options.replyStyle} replies`;
  const dialect = options.dialect ? `, ${options.dialect} dialect` : '';
  const stalls = options.stallFirstTokens
    ? `, ${Math.round(options.stallFirstTokens * 100)}% of first tokens stalled`
    : '';
  console.log(
    `fake LLM listening on ${url} (${options.firstTokenDelayMs} ms to the first token, ${options.tokenDelayMs} ms per token, ${style}${dialect}${stalls})`,
  );
  if (options.dialect) console.log(`  ${options.dialect}: ${DIALECTS[options.dialect].source}`);

  let stopping = false;
  const shutdown = () => {
    // A second signal means the user does not want to wait.
    if (stopping) process.exit(1);
    stopping = true;
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\nRun with --help for the options.`);
      process.exit(2);
    }
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
