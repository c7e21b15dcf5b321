import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { USAGE } from '../../../dev/fake-llm/fake-llm.main';

const ROOT = resolve(__dirname, '../../..');
const run = promisify(execFile);

describe('npm run fake-llm, as a process', () => {
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
