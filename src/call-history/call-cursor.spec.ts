import { decodeCursor, encodeCursor } from './call-cursor';
import { HistoryException } from './history.exception';

describe('call cursor', () => {
  const cursor = { startedAt: '2025-11-20T10:15:30.123456Z', id: '0b9c2f4e-8f1a-4c55-9a40-5d7e1c2b3a4f' };

  it('round-trips, microseconds included, as a URL-safe token', () => {
    const token = encodeCursor(cursor);

    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(token)).toEqual(cursor);
  });

  it.each([
    ['not base64 JSON', 'abc'],
    ['an empty token', ''],
    ['a JSON object instead of a pair', Buffer.from('{"a":1}').toString('base64url')],
    ['a bad timestamp', Buffer.from(JSON.stringify(['yesterday', cursor.id])).toString('base64url')],
    ['an impossible date', Buffer.from(JSON.stringify(['2025-13-45T10:15:30Z', cursor.id])).toString('base64url')],
    ['a bad id', Buffer.from(JSON.stringify([cursor.startedAt, 'x; DROP TABLE'])).toString('base64url')],
  ])('rejects %s', (_label, token) => {
    expect(() => decodeCursor(token)).toThrow(HistoryException);
  });
});
