import type { CallListPosition } from '../call-records/call-list.query';
import { HistoryException, HistoryExceptionCode } from './history.exception';

/** What a page's next_cursor encodes. */
export type CallCursor = CallListPosition;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(cursor: CallCursor): string {
  return Buffer.from(JSON.stringify([cursor.startedAt, cursor.id])).toString('base64url');
}

export function decodeCursor(token: string): CallCursor {
  const malformed = () =>
    new HistoryException(
      HistoryExceptionCode.INVALID_CURSOR,
      'cursor is malformed: pass next_cursor from a previous page unchanged',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw malformed();
  const [startedAt, id] = parsed as unknown[];
  if (typeof startedAt !== 'string' || !TIMESTAMP.test(startedAt) || Number.isNaN(Date.parse(startedAt)))
    throw malformed();
  if (typeof id !== 'string' || !UUID.test(id)) throw malformed();
  return { startedAt, id };
}
