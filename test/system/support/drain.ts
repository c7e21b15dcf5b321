import type { Pool } from 'pg';
import type { MillisPlatformClient } from '../../support/millis-platform-client';

/** A reply long enough (about 2 s at 50 ms a token) that a signal lands in the middle of it. */
export const LONG_REPLY = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ') + '.';

/** Starts a call on every client, then a reply on stream 1, and waits until each reply has begun to stream. */
export async function repliesInFlight(clients: MillisPlatformClient[], sessionPrefix: string): Promise<void> {
  clients.forEach((c, i) => c.startCall({ session_id: `${sessionPrefix}-${i}` }));
  await Promise.all(clients.map((c) => c.waitForEnd(0)));
  clients.forEach((c, i) => c.streamRequest(1, [{ role: 'user', content: `question ${i}` }]));
  await Promise.all(clients.map((c) => c.waitUntil(() => c.responses(1).length > 0, 5000, 'first piece')));
}

/** What a drain left in Postgres: sessions ended by the shutdown, completed exchanges, replies stored whole. */
export async function drainedRows(
  db: Pick<Pool, 'query'>,
): Promise<{ sessions: number; exchanges: number; whole_replies: number }> {
  const { rows } = await db.query(
    `SELECT (SELECT count(*)::int FROM call_sessions WHERE status = 'ended' AND end_reason = 'shutdown') AS sessions,
            (SELECT count(*)::int FROM stream_exchanges WHERE status = 'completed') AS exchanges,
            (SELECT count(*)::int FROM stream_exchanges WHERE kind = 'reply' AND response_text = $1) AS whole_replies`,
    [LONG_REPLY],
  );
  return rows[0];
}
