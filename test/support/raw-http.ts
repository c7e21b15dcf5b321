import http from 'node:http';

export interface UpgradeAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** Sends a WebSocket upgrade by hand and reports a refusal as it came over the wire. */
export function rawUpgrade(wsUrl: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  const url = new URL(wsUrl.replace(/^ws/, 'http'));
  return new Promise((resolve, reject) => {
    const req = http.get(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

/**
 * Upgrades until one is refused (a signalled service starts refusing calls once it drains), or
 * `withinMs` after `since`: the last answer either way.
 */
export async function upgradeUntilRefused(wsUrl: string, since: number, withinMs = 2000): Promise<UpgradeAnswer> {
  for (;;) {
    const answer = await rawUpgrade(wsUrl);
    if (answer.status !== 101 || Date.now() - since > withinMs) return answer;
  }
}
