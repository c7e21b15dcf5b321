import { normaliseUtterance, sameTranscript } from './transcript-match';

describe('normaliseUtterance', () => {
  it.each([
    ['What are your hours?', 'what are your hours'],
    ['  what   ARE your\thours ', 'what are your hours'],
    ['Book it, please... now!', 'book it please now'],
    ["I don't know", 'i dont know'],
    ['I don\u2019t know', 'i dont know'],
    ['It costs $45.50', 'it costs 45 50'],
    ['Ça coûte combien ?', 'ça coûte combien'],
    ['ｆｕｌｌ width', 'full width'],
    ['?!', ''],
  ])('%j -> %j', (input, expected) => {
    expect(normaliseUtterance(input)).toBe(expected);
  });

  it('keeps different words different', () => {
    expect(normaliseUtterance('Book Monday')).not.toBe(normaliseUtterance('Book Tuesday'));
    expect(normaliseUtterance('no thanks')).not.toBe(normaliseUtterance('no, thanks a lot'));
  });
});

describe('sameTranscript', () => {
  const said = [
    { role: 'assistant' as const, content: 'Hello, how can I help?' },
    { role: 'user' as const, content: 'What are your hours?' },
  ];

  it('matches the same turns with other case, spacing and punctuation', () => {
    expect(
      sameTranscript(said, [
        { role: 'assistant', content: 'hello how can i help' },
        { role: 'user', content: 'What are  your hours.' },
      ]),
    ).toBe(true);
  });

  it('refuses other words, another role, a missing or an extra turn', () => {
    expect(sameTranscript(said, [said[0], { role: 'user', content: 'What are your prices?' }])).toBe(false);
    expect(sameTranscript(said, [{ ...said[0], role: 'user' }, said[1]])).toBe(false);
    expect(sameTranscript(said, [said[1]])).toBe(false);
    expect(sameTranscript(said, [...said, { role: 'user', content: 'and Sunday?' }])).toBe(false);
  });

  it('refuses an earlier turn that differs (the caller heard less of a reply)', () => {
    expect(sameTranscript(said, [{ role: 'assistant', content: 'Hello,' }, said[1]])).toBe(false);
  });
});
