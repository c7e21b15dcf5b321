import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCallArgs, USAGE, UsageError } from './call.main';

describe('npm run call arguments', () => {
  it('has defaults for a local service, and takes the token from the environment unless given', () => {
    expect(parseCallArgs([], 'env-token')).toEqual({
      url: 'ws://127.0.0.1:8080/llm-websocket',
      token: 'env-token',
      flags: { agentId: undefined, sessionId: undefined, metadata: undefined, from: undefined, to: undefined },
      script: undefined,
      json: false,
      endpointingMs: 0,
      mismatchRate: 0,
    });
    expect(parseCallArgs(['--help'], undefined)).toBeNull();
    expect(parseCallArgs(['-h'], undefined)).toBeNull();
    expect(
      parseCallArgs(
        ['--token', 'flag-token', '--metadata', '{"customer":"Ada"}', '--from=+1', '--script', 'a.yaml', '--json'],
        'env-token',
      ),
    ).toMatchObject({
      token: 'flag-token',
      flags: { metadata: { customer: 'Ada' }, from: '+1' },
      script: 'a.yaml',
      json: true,
    });
  });

  it('refuses what it cannot use, saying why', () => {
    expect(() => parseCallArgs(['--voip', 'x'], undefined)).toThrow(UsageError);
    expect(() => parseCallArgs(['stray'], undefined)).toThrow(/stray/);
    expect(() => parseCallArgs(['--json'], undefined)).toThrow('--json only applies to --script');
    expect(() => parseCallArgs(['--metadata', '{nope'], undefined)).toThrow(/^--metadata is not JSON/);
    expect(() => parseCallArgs(['--metadata', '[1]'], undefined)).toThrow('--metadata must be a JSON object');
    expect(() => parseCallArgs(['--endpointing-ms=-5'], undefined)).toThrow(/^--endpointing-ms must be/);
    expect(() => parseCallArgs(['--endpointing-ms', '500', '--mismatch-rate', '2'], undefined)).toThrow(
      /^--mismatch-rate must be/,
    );
    expect(() => parseCallArgs(['--mismatch-rate', '0.5'], undefined)).toThrow(
      '--mismatch-rate only applies with --endpointing-ms',
    );
  });

  it('takes the endpointing timing', () => {
    expect(parseCallArgs(['--endpointing-ms', '500', '--mismatch-rate', '0.2'], undefined)).toMatchObject({
      endpointingMs: 500,
      mismatchRate: 0.2,
    });
  });

  it('documents every flag in --help and in the README', () => {
    const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
    const simulatorSection = readme.slice(readme.indexOf('### The call simulator'));
    const flags = ['url', 'token', 'agent', 'session', 'metadata', 'from', 'to', 'script', 'json', 'help'];
    for (const flag of [...flags, 'endpointing-ms', 'mismatch-rate']) {
      expect(USAGE).toContain(`--${flag}`);
      expect(simulatorSection).toContain(`\`--${flag}`);
    }
  });
});
