import { spawnService, stopService } from '../support/service-process';

/** The real process, as the production image starts it (NODE_ENV=production). */
describe('Production fails closed', () => {
  it('refuses to start without DATABASE_URL, with one readable line', async () => {
    const start = spawnService({ DATABASE_URL: '', WS_AUTH_TOKEN: 'a-websocket-token-of-length' });
    await expect(start).rejects.toThrow(
      /service exited during start-up:[\s\S]*- DATABASE_URL: required when NODE_ENV=production/,
    );
  });

  it('refuses to start with neither WS_AUTH_TOKEN nor WS_ALLOWED_IPS', async () => {
    const start = spawnService({ ALLOW_OPEN_WEBSOCKET: '' });
    await expect(start).rejects.toThrow(
      /- WS_AUTH_TOKEN: required when NODE_ENV=production unless WS_ALLOWED_IPS is set/,
    );
  });

  it('starts with an address allow-list instead of a token', async () => {
    const service = await spawnService({ ALLOW_OPEN_WEBSOCKET: '', WS_ALLOWED_IPS: '127.0.0.1' });
    try {
      expect((await fetch(`${service.httpUrl}/health/ready`)).status).toBe(200);
    } finally {
      await stopService(service);
    }
  });
});
