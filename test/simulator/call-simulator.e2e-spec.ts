import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { runCallScript, validateScript } from '../../src/simulator/call-script';
import { eventually, startTestApp, TestApp } from '../support/test-app';

const run = promisify(execFile);

describe('The call simulator', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { GREETING: 'Hello {{customer}}.' } });
  });
  afterAll(() => t.close());

  it('runs a scripted call: greeting, turns, a partial transcript, an interrupt, hang-up', async () => {
    t.fakeLlm.setResponder((request) =>
      request.body.messages?.at(-1)?.content === 'Tell me a long story' ? { kind: 'text', tokenCount: 200, tokenDelayMs: 10 } : undefined,
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
    expect(() => validateScript({ steps: [{ shout: 'hi' }] })).toThrow('step 1: expected exactly one of say, partial, wait_ms, hangup');
  });

  it('`npm run call -- --script file.yaml --json` prints the outcome of the call', async () => {
    t.fakeLlm.setResponder(undefined);
    const file = join(mkdtempSync(join(tmpdir(), 'script-')), 'call.yaml');
    writeFileSync(file, ['session_id: simulated-cli', 'metadata: { customer: Bo }', 'steps:', '  - say: Hi there', '  - hangup: true', ''].join('\n'));
    const { stdout } = await run(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'src/simulator/call.main.ts', '--url', t.wsUrl, '--script', file, '--json'],
      { cwd: resolve(__dirname, '../..'), timeout: 60_000 },
    );
    const outcome = JSON.parse(stdout);
    expect(outcome.sessionId).toBe('simulated-cli');
    expect(outcome.turns.map((turn: { text: string }) => turn.text)).toEqual(['Hello Bo.', 'Hi there', 'You said: Hi there.']);
  });
});
