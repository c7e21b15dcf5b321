import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { CLI_DEFAULTS, FAKE_LLM_FLAGS, parseFakeLlmArgs, USAGE, UsageError } from './fake-llm.main';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

describe('npm run fake-llm', () => {
  it('uses a pace a person can interrupt, and conversational replies, unless told otherwise', () => {
    expect(parseFakeLlmArgs([])).toEqual({
      port: 8089,
      host: '127.0.0.1',
      firstTokenDelayMs: CLI_DEFAULTS.firstTokenMs,
      tokenDelayMs: CLI_DEFAULTS.tokenMs,
      replyStyle: 'conversation',
      defaultReply: undefined,
    });
    expect(CLI_DEFAULTS.firstTokenMs).toBeGreaterThanOrEqual(300);
    expect(CLI_DEFAULTS.firstTokenMs).toBeLessThanOrEqual(600);
    expect(CLI_DEFAULTS.tokenMs).toBeGreaterThanOrEqual(60);
    expect(CLI_DEFAULTS.tokenMs).toBeLessThanOrEqual(100);
    expect(
      parseFakeLlmArgs([
        '--port',
        '0',
        '--host=0.0.0.0',
        '--first-token-ms',
        '200',
        '--token-ms=10',
        '--echo',
        '--reply',
        'Hi.',
      ]),
    ).toEqual({
      port: 0,
      host: '0.0.0.0',
      firstTokenDelayMs: 200,
      tokenDelayMs: 10,
      replyStyle: 'echo',
      defaultReply: 'Hi.',
    });
  });

  it('refuses unknown flags and bad numbers with a clear message', () => {
    expect(() => parseFakeLlmArgs(['--prot', '1'])).toThrow(UsageError);
    expect(() => parseFakeLlmArgs(['--prot', '1'])).toThrow(/--prot/);
    expect(() => parseFakeLlmArgs(['--token-ms', 'fast'])).toThrow(
      '--token-ms must be a whole number of 0 or more, got "fast"',
    );
    expect(() => parseFakeLlmArgs(['--port=-1'])).toThrow('--port must be a whole number');
  });

  it('documents every flag in --help and in the README', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    for (const flag of Object.keys(FAKE_LLM_FLAGS)) {
      expect(USAGE).toContain(`--${flag}`);
      expect(readme).toContain(`\`--${flag}`);
    }
  });

  it('--help prints the usage and exits without starting a server', async () => {
    const { stdout } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'dev/fake-llm/fake-llm.main.ts', '--help'],
      {
        cwd: ROOT,
        timeout: 30_000,
      },
    );
    expect(stdout.trim()).toBe(USAGE);
  });

  it('exits 2 with the reason on a bad flag', async () => {
    const failure = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'dev/fake-llm/fake-llm.main.ts', '--bogus'],
      {
        cwd: ROOT,
        timeout: 30_000,
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining("'--bogus'") });
    expect((failure as { stderr: string }).stderr).toContain('Run with --help');
  });
});
