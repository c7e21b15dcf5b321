import { HistoryException, HistoryExceptionCode } from './history.exception';

/**
 * Position after the last call of a page, in the list's order (started_at DESC, id DESC).
 * started_at travels as Postgres text with microseconds: a JS Date would round it to the
 * millisecond and skip or repeat calls that started within the same millisecond.
 */
export interface CallCursor {
  startedAt: string;
  id: string;
}

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
