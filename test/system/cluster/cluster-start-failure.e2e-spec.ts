import net from 'node:net';
import { freePort, spawnService } from '../support/service-process';

/** A cluster that cannot start says why once and stops, as one process does, instead of forking forever. */
describe('WORKERS=2 that cannot start', () => {
  it('reports a bad configuration once, from the primary, before any worker is forked', async () => {
    const failure = (await spawnService({ WORKERS: '2', PORT: 'eighty', LLM_TIMEOUT_MS: '5' }).catch(
      (error: Error) => error,
    )) as Error;
    const output = failure.message.slice(failure.message.indexOf('\n') + 1);
    expect(output.match(/Invalid configuration:/g)).toHaveLength(1);
    expect(output).toMatch(/- PORT: /);
    expect(output).toMatch(/- LLM_TIMEOUT_MS: /);
    expect(output).not.toMatch(/Worker \d/);
  });

  it('refuses WORKERS that is neither a number nor auto with one readable line', async () => {
    const failure = (await spawnService({ WORKERS: 'all' }).catch((error: Error) => error)) as Error;
    expect(failure.message).toContain('  - WORKERS: WORKERS must be a whole number from 1 to 1024, or auto\n');
  });

  it('stops every worker and exits 1 when a worker fails to start (here: the port is taken)', async () => {
    const port = await freePort();
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((listening) => squatter.listen(port, '127.0.0.1', listening));
    try {
      const failure = (await spawnService({ LOG_LEVEL: 'log', LOG_FORMAT: 'json' }, { port, workers: 2 }).catch(
        (error: Error) => error,
      )) as Error;
      expect(failure.message).toMatch(/service exited during start-up/);
      expect(failure.message).toMatch(/EADDRINUSE/);
      expect(failure.message).toMatch(/"msg":"Worker \d \(pid \d+\) exited during start-up \(code 1\): stopping"/);
      expect(failure.message).toMatch(/"msg":"Stopped \(exit code 1\)"/);
    } finally {
      squatter.close();
    }
  });
});
