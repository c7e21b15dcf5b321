import { toPostgresJson, toPostgresSafeString } from './postgres-json';

const REPLACEMENT = '\ufffd';

describe('toPostgresSafeString', () => {
  it.each(['', 'plain ascii', 'émoji 🙂 and 中文', 'line\nbreak\ttab', '\u0001 control but not NUL'])(
    'returns %j unchanged',
    (text) => {
      expect(toPostgresSafeString(text)).toBe(text);
    },
  );

  it('replaces every NUL', () => {
    expect(toPostgresSafeString('a\u0000b\u0000')).toBe(`a${REPLACEMENT}b${REPLACEMENT}`);
  });

  it('replaces a lone high surrogate and a lone low surrogate', () => {
    expect(toPostgresSafeString('x\ud83dy')).toBe(`x${REPLACEMENT}y`);
    expect(toPostgresSafeString('x\ude00y')).toBe(`x${REPLACEMENT}y`);
    expect(toPostgresSafeString('\ud83d')).toBe(REPLACEMENT);
  });

  it('keeps valid surrogate pairs next to a broken one', () => {
    // '🙂' is \ud83d\ude42; the second high surrogate has no partner.
    expect(toPostgresSafeString('🙂\ud83d🙂')).toBe(`🙂${REPLACEMENT}🙂`);
  });

  it('repairs an emoji cut in half by truncation', () => {
    const cut = 'ok 🙂'.slice(0, 4);

    expect(toPostgresSafeString(cut)).toBe(`ok ${REPLACEMENT}`);
  });
});

describe('toPostgresJson', () => {
  it('produces the same JSON as JSON.stringify for clean values', () => {
    const value = { a: 'text', b: [1, 'two', { c: true, d: null }], e: '🙂' };

    expect(toPostgresJson(value)).toBe(JSON.stringify(value));
  });

  it('replaces NUL and lone surrogates in nested string values', () => {
    const value = {
      top: 'a\u0000',
      list: ['ok', 'b\ud800', { deep: ['\udfffc', '🙂\u0000🙂'] }],
      count: 3,
      nothing: null,
    };

    const json = toPostgresJson(value);

    expect(JSON.parse(json)).toEqual({
      top: `a${REPLACEMENT}`,
      list: ['ok', `b${REPLACEMENT}`, { deep: [`${REPLACEMENT}c`, `🙂${REPLACEMENT}🙂`] }],
      count: 3,
      nothing: null,
    });
    expect(json).not.toMatch(/\\u0000|\\ud[89a-f][0-9a-f]{2}/i);
  });

  it('replaces NUL in a bare string', () => {
    expect(toPostgresJson('\u0000')).toBe(JSON.stringify(REPLACEMENT));
  });

  it('does not modify the value it is given', () => {
    const value = { text: 'a\u0000' };

    toPostgresJson(value);

    expect(value.text).toBe('a\u0000');
  });

  it('replaces NUL and lone surrogates in object keys', () => {
    const json = toPostgresJson({ metadata: { 'a\u0000': 1, 'b\ud800': 2 } });

    expect(json).not.toMatch(/\\u0000|\\ud[89a-f][0-9a-f]{2}/i);
    expect(Object.keys(JSON.parse(json).metadata)).toEqual([`a${REPLACEMENT}`, `b${REPLACEMENT}`]);
  });
});
