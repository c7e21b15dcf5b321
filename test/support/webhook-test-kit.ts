import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Pool } from 'pg';
import { MillisPlatformClient } from './millis-platform-client';

/** What the delivery tests pass: fast retries, loopback receivers, quick event dispatch. The real queue runs. */
export const FAST_WEBHOOK_ENV = {
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_RETRY_DELAY_SECONDS: '1',
  // 18 s: room for 3 retries (waits of 1-2, 2-4 and 4-8 s), see src/webhooks/webhook-retry-plan.ts.
  WEBHOOK_MAX_DELIVERY_HOURS: '0.005',
  WEBHOOK_TIMEOUT_MS: '2000',
  CALL_EVENTS_POLL_MS: '100',
};

type VerifyWebhook = (
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string | Buffer,
  nowSeconds?: number,
) => { id: string; type: string; created_at: string; data: Record<string, unknown> };

/**
 * The verification code exactly as docs/webhooks.md shows it: the ```js block after its
 * `verify-webhook.js` marker, written to a file and loaded as a receiver would.
 */
export function documentedVerifier(): VerifyWebhook {
  const doc = readFileSync(resolve(__dirname, '../../docs/webhooks.md'), 'utf8');
  const match = /<!-- verify-webhook\.js[^>]*-->\s*```js\n([\s\S]*?)```/.exec(doc);
  if (!match) throw new Error('docs/webhooks.md has no verify-webhook.js block');
  const file = join(mkdtempSync(join(tmpdir(), 'verify-webhook-')), 'verify-webhook.js');
  writeFileSync(file, match[1]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS file from the doc, loaded as a receiver would
  return (require(file) as { verifyWebhook: VerifyWebhook }).verifyWebhook;
}

/** A whole call over the real socket: greeting, one caller turn, hang-up. */
export async function placeCall(
  wsUrl: string,
  sessionId: string,
  agentId: string,
  userText = 'I would like to book a table for two',
): Promise<void> {
  const client = await MillisPlatformClient.connect(wsUrl);
  client.startCall({
    session_id: sessionId,
    agent_id: agentId,
    metadata: { customer: 'Ada Lovelace' },
    voip: { from: '+15550100', to: '+15550199' },
  });
  await client.waitForEnd(0);
  client.streamRequest(1, [{ role: 'user', content: userText }]);
  await client.waitForEnd(1);
  await client.close();
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  status_codes: Array<number | null>;
  last_error: string | null;
}

export async function deliveriesOf(db: Pool, sessionId: string): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT id, endpoint_id, event_id, event_type, status, attempts, status_codes, last_error
     FROM webhook_deliveries WHERE session_id = $1 ORDER BY event_type, endpoint_id`,
    [sessionId],
  );
  return rows;
}
