import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCallScript, validateScript } from '../../../dev/simulator/call-script';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

describe('The call simulator', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { GREETING: 'Hello {{customer}}.' } });
  });
  afterAll(() => t.close());

  it('runs a scripted call: greeting, turns, a partial transcript, an interrupt, hang-up', async () => {
    t.fakeLlm.setResponder((request) =>
      request.body.messages?.at(-1)?.content === 'Tell me a long story'
        ? { kind: 'text', tokenCount: 200, tokenDelayMs: 10 }
        : undefined,
    );
    const script = validateScript({
      agent_id: 'sim-agent',
      session_id: 'simulated-1',
      metadata: { customer: 'Ada' },
      voip: { from: '+15550100', to: '+15550199' },
      steps: [
        { partial: 'What are', is_final: false },
        { say: 'What are your opening hours?' },
        { say: 'Tell me a long story', interrupt_after_ms: 150 },
        { say: 'Short answer please' },
        { hangup: true },
      ],
    });

    const outcome = await runCallScript(script, { url: t.wsUrl });

    expect(outcome.sessionId).toBe('simulated-1');
    expect(outcome.turns.map((turn) => [turn.speaker, turn.interrupted ?? null])).toEqual([
      ['agent', false],
      ['caller', null],
      ['agent', false],
      ['caller', null],
      ['agent', true],
      ['caller', null],
      ['agent', false],
    ]);
    expect(outcome.turns[0].text).toBe('Hello Ada.');
    expect(outcome.turns[2].text).toBe('You said: What are your opening hours?.');
    expect(outcome.turns[4].text.length).toBeGreaterThan(0);
    expect(outcome.turns[6].text).toBe('You said: Short answer please.');

    // The platform sends the whole transcript, with what the caller heard of the interrupted reply.
    const last = t.fakeLlm.requests.at(-1)!.body.messages as Array<{ role: string; content: string }>;
    expect(last.slice(1).map((m) => m.role)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(last[5].content).toBe(outcome.turns[4].text);

    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT e.stream_id, e.status FROM stream_exchanges e JOIN call_sessions s ON s.id = e.call_session_id
         WHERE s.session_id = 'simulated-1' ORDER BY e.stream_id`,
      );
      expect(rows).toEqual([
        { stream_id: 0, status: 'completed' },
        { stream_id: 1, status: 'completed' },
        { stream_id: 2, status: 'interrupted' },
        { stream_id: 3, status: 'completed' },
      ]);
    });
  });

  it('refuses a script without steps or with an unknown step', () => {
    expect(() => validateScript({})).toThrow('a call script needs a `steps` list');
    expect(() => validateScript({ steps: [{ shout: 'hi' }] })).toThrow(
      'step 1: expected exactly one of say, partial, wait_ms, hangup',
    );
  });

  it('`npm run call -- --script file.yaml --json` prints the outcome of the call', async () => {
    t.fakeLlm.setResponder(undefined);
    const file = join(mkdtempSync(join(tmpdir(), 'script-')), 'call.yaml');
    writeFileSync(
      file,
      [
        'session_id: simulated-cli',
        'metadata: { customer: Bo }',
        'steps:',
        '  - say: Hi there',
        '  - hangup: true',
        '',
      ].join('\n'),
    );
    const { stdout } = await runCli(['--url', t.wsUrl, '--script', file, '--json']);
    const outcome = JSON.parse(stdout);
    expect(outcome.sessionId).toBe('simulated-cli');
    expect(outcome.turns.map((turn: { text: string }) => turn.text)).toEqual([
      'Hello Bo.',
      'Hi there',
      'You said: Hi there.',
    ]);
  });

  it('--from/--to/--agent/--session/--metadata given with --script win over the script', async () => {
    t.fakeLlm.setResponder(undefined);
    const file = join(mkdtempSync(join(tmpdir(), 'script-')), 'call.yaml');
    writeFileSync(
      file,
      [
        'agent_id: from-script',
        'session_id: script-session',
        'metadata: { customer: Script }',
        'voip: { from: "+15550100", to: "+15550199" }',
        'steps:',
        '  - say: Hi',
        '',
      ].join('\n'),
    );
    const { stdout } = await runCli([
      '--url',
      t.wsUrl,
      '--script',
      file,
      '--json',
      '--from',
      '+15550111',
      '--session',
      'flag-session',
      '--agent',
      'from-flag',
      '--metadata',
      '{"customer":"Flag"}',
    ]);
    expect(JSON.parse(stdout).turns[0].text).toBe('Hello Flag.');

    await eventually(async () => {
      const { rows } = await t.db.query(
        `SELECT s.agent_id, f.number AS from_number, o.number AS to_number
         FROM call_sessions s JOIN phone_numbers f ON f.id = s.from_number_id JOIN phone_numbers o ON o.id = s.to_number_id
         WHERE s.session_id = 'flag-session'`,
      );
      // --from replaces voip.from only; voip.to stays the script's.
      expect(rows).toEqual([{ agent_id: 'from-flag', from_number: '+15550111', to_number: '+15550199' }]);
    });
  });

  it('with piped input, answers one line at a time and keeps the reply apart from what was typed', async () => {
    t.fakeLlm.setResponder(undefined);
    const { stdout } = await runCli(
      ['--url', t.wsUrl, '--session', 'piped', '--metadata', '{"customer":"Cy"}'],
      'What time is it\n/hangup\n',
    );
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^connected to ws:\/\/.* as session piped; type to talk/);
    expect(lines.slice(1)).toEqual([
      'agent> Hello Cy.',
      expect.stringMatching(/^ {2}\(first words \d+ ms, total \d+ ms\)$/),
      'you> What time is it',
      'agent> You said: What time is it.',
      expect.stringMatching(/^ {2}\(first words \d+ ms, total \d+ ms\)$/),
      'you> /hangup',
      'call closed (1000)',
    ]);
  });

  it('refuses a bad flag or a bad script with the reason, before calling', async () => {
    const bad = await runCli(['--url', t.wsUrl, '--voip', 'x']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad).toMatchObject({ code: 2, stderr: expect.stringContaining("'--voip'") });

    const file = join(mkdtempSync(join(tmpdir(), 'script-')), 'call.yaml');
    writeFileSync(file, 'voip: { from: 15550100, to: "+15550199" }\nsteps: []\n');
    const script = await runCli(['--url', t.wsUrl, '--script', file]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(script).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('`voip` needs `from` and `to` as strings'),
    });
  });
});

/** `npm run call` as a process, with `input` piped to it. */
function runCli(args: string[], input = ''): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'dev/simulator/call.main.ts', ...args],
      { cwd: resolve(__dirname, '../../..'), timeout: 60_000 },
      (error, stdout, stderr) =>
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an Error: its type, an Omit<> of one, hides that
        error ? reject(Object.assign(error, { stdout, stderr })) : resolvePromise({ stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}
