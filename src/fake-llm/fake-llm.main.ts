import { FakeLlmServer } from './fake-llm-server';

/** Value of `--name value` or `--name=value`. */
function flag(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

function number(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`Invalid ${name}: ${value}`);
  return n;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const env = process.env;
  const server = new FakeLlmServer({
    port: number(flag(argv, 'port') ?? env.FAKE_LLM_PORT, 8089, 'port'),
    firstTokenDelayMs: number(flag(argv, 'first-token-ms') ?? env.FAKE_LLM_FIRST_TOKEN_MS, 20, 'first-token-ms'),
    tokenDelayMs: number(flag(argv, 'token-ms') ?? env.FAKE_LLM_TOKEN_MS, 5, 'token-ms'),
    defaultReply: flag(argv, 'reply'),
  });
  const url = await server.start();
  console.log(`fake LLM listening on ${url}`);

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

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
