import WebSocket from 'ws';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';

const PING_MS = 200;

describe('Dead peers (WebSocket ping/pong)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { WS_PING_INTERVAL_MS: String(PING_MS), GREETING: 'Hi.' } });
  });
  afterAll(() => t.close());

  it("terminates a peer that stops answering pings and ends its session as 'peer_lost'", async () => {
    const mute = new WebSocket(t.wsUrl, { autoPong: false });
    await new Promise((resolve, reject) => mute.once('open', resolve).once('error', reject));
    const healthy = await MillisPlatformClient.connect(t.wsUrl);
    let pings = 0;
    healthy.socket.on('ping', () => (pings += 1));
    mute.send(JSON.stringify({ type: 'start_call', data: { stream_id: 0, agent_id: 'a', session_id: 'peer-mute' } }));
    healthy.startCall({ session_id: 'peer-healthy' });
    await healthy.waitForEnd(0);

    const started = Date.now();
    const closeCode = await new Promise<number>((resolve) => mute.once('close', resolve));
    const detectedAfter = Date.now() - started;
    expect(closeCode).toBe(1006);
    // A missed pong is noticed within two intervals, plus scheduling slack.
    expect(detectedAfter).toBeLessThan(PING_MS * 2 + 400);

    await eventually(async () => {
      const { rows } = await t.db.query(`SELECT session_id, status, end_reason FROM call_sessions ORDER BY session_id`);
      expect(rows).toEqual([
        { session_id: 'peer-healthy', status: 'active', end_reason: null },
        { session_id: 'peer-mute', status: 'ended', end_reason: 'peer_lost' },
      ]);
    });
    // The peer that answers stays connected across many intervals.
    const pingsSoFar = pings;
    await eventually(() => expect(pings).toBeGreaterThanOrEqual(pingsSoFar + 4), PING_MS * 10);
    expect(healthy.isOpen).toBe(true);
    await healthy.close();
  });
});
