import { MillisPlatformClient } from '../../support/millis-platform-client';
import { startTestApp, TestApp } from '../../support/test-app';

const TOKEN = 'a-long-shared-secret-for-tests';

describe('WS_AUTH_TOKEN', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { WS_AUTH_TOKEN: TOKEN, GREETING: 'Hi.' } });
  });
  afterAll(() => t.close());

  it('refuses a connection without the token with 401 at the upgrade', async () => {
    await expect(MillisPlatformClient.connect(t.wsUrl)).rejects.toThrow('HTTP 401');
  });

  it('refuses a wrong token', async () => {
    await expect(MillisPlatformClient.connect(t.wsUrl, { token: 'not-the-token' })).rejects.toThrow('HTTP 401');
    await expect(
      MillisPlatformClient.connect(t.wsUrl, { headers: { Authorization: 'Bearer not-the-token' } }),
    ).rejects.toThrow('HTTP 401');
  });

  it('accepts the token as ?token= or as a Bearer header', async () => {
    for (const client of [
      await MillisPlatformClient.connect(t.wsUrl, { token: TOKEN }),
      await MillisPlatformClient.connect(t.wsUrl, { headers: { Authorization: `Bearer ${TOKEN}` } }),
    ]) {
      client.startCall({ session_id: `auth-${Math.random()}` });
      expect(await client.waitForEnd(0)).toBe('Hi.');
      await client.close();
    }
  });
});
