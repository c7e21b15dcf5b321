import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CLI_DEFAULTS, FAKE_LLM_FLAGS, parseFakeLlmArgs, USAGE, UsageError } from './fake-llm.main';

describe('npm run fake-llm flags', () => {
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
    const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
    for (const flag of Object.keys(FAKE_LLM_FLAGS)) {
      expect(USAGE).toContain(`--${flag}`);
      expect(readme).toContain(`\`--${flag}`);
    }
  });
});
