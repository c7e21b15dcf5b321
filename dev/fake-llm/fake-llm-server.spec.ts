import { DIALECTS, FAKE_DIALECTS, parseDirective, splitArguments, tokenize } from './fake-llm-server';

describe('tokenize', () => {
  it('splits on word boundaries and keeps whitespace', () => {
    expect(tokenize('Hello there. How')).toEqual(['Hello', ' there', '.', ' How']);
  });

  it.each(['', '  leading and trailing  ', 'a,b;c!  d?\n\nnew  line.', 'tabs\tand\r\nCRLF', 'émoji 🙂 ok', '...'])(
    'preserves every character of %j',
    (text) => {
      expect(tokenize(text).join('')).toBe(text);
    },
  );
});

describe('parseDirective', () => {
  it('reads each directive kind', () => {
    expect(parseDirective('x [fake:error 500] y')).toEqual({ kind: 'error', status: 500, message: undefined });
    expect(parseDirective('[fake:error 429 slow down]')).toEqual({ kind: 'error', status: 429, message: 'slow down' });
    expect(parseDirective('[fake:cut 3]')).toEqual({ kind: 'cut', afterTokens: 3 });
    expect(parseDirective('[fake:hang]')).toEqual({ kind: 'hang', afterTokens: 0 });
    expect(parseDirective('[fake:tokens 30]')).toEqual({ kind: 'text', tokenCount: 30 });
    expect(parseDirective('[fake:tool lookup {"q":"a [b]"}] [fake:tool ping]')).toEqual({
      kind: 'tool_calls',
      calls: [
        { name: 'lookup', arguments: { q: 'a [b]' } },
        { name: 'ping', arguments: {} },
      ],
    });
    expect(parseDirective('no directive here')).toBeUndefined();
  });

  it('splits tool arguments into 2-4 pieces', () => {
    const json = JSON.stringify({ city: 'Paris', unit: 'celsius', days: 3 });
    const pieces = splitArguments(json);
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(pieces.length).toBeLessThanOrEqual(4);
    expect(pieces.join('')).toBe(json);
  });
});

describe('FakeLlmServer dialects', () => {
  it('every dialect documents where it comes from', () => {
    for (const dialect of FAKE_DIALECTS) expect(DIALECTS[dialect].source.length).toBeGreaterThan(20);
  });
});
