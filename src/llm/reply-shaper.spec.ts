import { FLUSH_AFTER_CHARS, MAX_PAUSE_MS, ReplyPiece, ReplyShaper, shapeCompleteText } from './reply-shaper';

/** Pushes every token in order and returns the pieces of each push, then of end(). */
function shapeTokens(tokens: string[]): { perPush: ReplyPiece[][]; atEnd: ReplyPiece[] } {
  const shaper = new ReplyShaper();
  const perPush = tokens.map((token) => shaper.push(token));
  return { perPush, atEnd: shaper.end() };
}

const textOf = (pieces: ReplyPiece[]) => pieces.map((p) => p.content).join('');
const flushed = (pieces: ReplyPiece[]) => pieces.filter((p) => p.flush);

describe('ReplyShaper', () => {
  it('relays each token unchanged as one piece, without flush or pause', () => {
    const tokens = ['Hello', ' there', ',', ' how', ' can', ' I', ' help', '?'];

    const { perPush, atEnd } = shapeTokens(tokens);

    expect(perPush).toEqual(tokens.map((content) => [{ content }]));
    expect(atEnd).toEqual([]);
  });

  it('emits nothing for an empty token', () => {
    expect(new ReplyShaper().push('')).toEqual([]);
  });

  it('turns <break time="500ms"/> into a pause on the preceding text, with a flush', () => {
    const pieces = new ReplyShaper().push('One moment.<break time="500ms"/> Here it is.');

    expect(pieces).toEqual([{ content: 'One moment.', flush: true, pause: 500 }, { content: ' Here it is.' }]);
  });

  it("reads seconds, single quotes and a tag without the closing slash: <break time='1.5s'>", () => {
    const pieces = new ReplyShaper().push("Let me think<break time='1.5s'>");

    expect(pieces).toEqual([{ content: 'Let me think', flush: true, pause: 1500 }]);
  });

  it('accepts a break tag in any letter case and with spaces', () => {
    const pieces = new ReplyShaper().push('Hm<BREAK  time = "250ms" />');

    expect(pieces).toEqual([{ content: 'Hm', flush: true, pause: 250 }]);
  });

  it('gives a break at the very start an empty piece that carries the pause', () => {
    expect(new ReplyShaper().push('<break time="2s"/>Hi')).toEqual([
      { content: '', flush: true, pause: 2000 },
      { content: 'Hi' },
    ]);
  });

  it('recognises a break tag split across several pushes and never speaks its parts', () => {
    const { perPush, atEnd } = shapeTokens(['Sure', '<bre', 'ak ti', 'me="30', '0ms"', '/>', ' go on']);

    expect(perPush).toEqual([
      [{ content: 'Sure' }],
      [],
      [],
      [],
      [],
      [{ content: '', flush: true, pause: 300 }],
      [{ content: ' go on' }],
    ]);
    expect(atEnd).toEqual([]);
  });

  it('releases a "<" that opens no tag as text once a ">" shows it is not a break', () => {
    const { perPush, atEnd } = shapeTokens(['if a', ' < b', ' and c', ' > d,', ' fine']);
    const all = [...perPush.flat(), ...atEnd];

    expect(textOf(all)).toBe('if a < b and c > d, fine');
    expect(all.some((p) => p.pause !== undefined)).toBe(false);
  });

  it('releases a "<" followed by too much text to be a tag without waiting for end()', () => {
    const text = `a < b ${'and more words '.repeat(5)}`;

    const pieces = new ReplyShaper().push(text);

    expect(textOf(pieces)).toBe(text);
  });

  it('releases a tag that is not a break, such as <b>, as text', () => {
    const pieces = new ReplyShaper().push('a <b>bold</b> move');

    expect(textOf(pieces)).toBe('a <b>bold</b> move');
    expect(pieces.some((p) => p.pause !== undefined)).toBe(false);
  });

  it('speaks "a < b" in full by end() even though no ">" ever came', () => {
    const shaper = new ReplyShaper();

    const pushed = shaper.push('a < b');
    const ended = shaper.end();

    expect(textOf([...pushed, ...ended])).toBe('a < b');
    expect(ended).toEqual([{ content: '< b' }]);
  });

  it('speaks an unfinished break tag at end() as text', () => {
    const shaper = new ReplyShaper();

    expect(shaper.push('Bye <break time="5')).toEqual([{ content: 'Bye ' }]);
    expect(shaper.end()).toEqual([{ content: '<break time="5' }]);
    expect(shaper.end()).toEqual([]);
  });

  it(`caps a pause at MAX_PAUSE_MS (${MAX_PAUSE_MS} ms)`, () => {
    expect(new ReplyShaper().push('Wait<break time="60s"/>')).toEqual([
      { content: 'Wait', flush: true, pause: MAX_PAUSE_MS },
    ]);
    expect(new ReplyShaper().push('Wait<break time="999999ms"/>')[0].pause).toBe(MAX_PAUSE_MS);
  });

  it('rounds a fractional pause to whole milliseconds', () => {
    expect(new ReplyShaper().push('x<break time="0.0015s"/>')[0].pause).toBe(2);
  });

  describe(`flush after ${FLUSH_AFTER_CHARS} characters without a sentence end`, () => {
    /** Ten-character words with no punctuation: no sentence end, no clause end. */
    const words = (count: number) => Array.from({ length: count }, () => 'something ');

    it('does not flush at a comma before the threshold', () => {
      const { perPush } = shapeTokens([...words(3), 'and then,', ' more']);

      expect(flushed(perPush.flat())).toEqual([]);
    });

    it('does not flush past the threshold until a clause boundary arrives', () => {
      const { perPush } = shapeTokens(words(FLUSH_AFTER_CHARS / 10 + 5));

      expect(flushed(perPush.flat())).toEqual([]);
    });

    it('flushes at the first comma after the threshold, then counts afresh', () => {
      const tokens = [...words(FLUSH_AFTER_CHARS / 10), 'however,', ' it', ' goes,', ' on'];

      const { perPush } = shapeTokens(tokens);
      const pieces = perPush.flat();

      expect(pieces.map((p) => p.content)).toEqual(tokens);
      expect(flushed(pieces)).toEqual([{ content: 'however,', flush: true }]);
    });

    it.each([';', ':', '\u2014'])('treats %j as a clause boundary too', (mark) => {
      const { perPush } = shapeTokens([...words(FLUSH_AFTER_CHARS / 10), `well${mark}`]);

      expect(perPush.at(-1)).toEqual([{ content: `well${mark}`, flush: true }]);
    });

    it('never flushes when sentences end regularly, however long the reply', () => {
      const sentence = ['This', ' is', ' fine,', ' really', ' quite', ' fine.', ' '];
      const tokens = Array.from({ length: 40 }, () => sentence).flat();
      expect(tokens.join('').length).toBeGreaterThan(FLUSH_AFTER_CHARS * 5);

      const { perPush, atEnd } = shapeTokens(tokens);

      expect(flushed([...perPush.flat(), ...atEnd])).toEqual([]);
    });

    it('counts a sentence end followed by a closing quote or bracket as a sentence end', () => {
      const sentence = ['He', ' said', ' "stop,', ' now."', ' Then', ' (quietly,', ' later.)', ' '];
      const tokens = Array.from({ length: 30 }, () => sentence).flat();

      const { perPush } = shapeTokens(tokens);

      expect(flushed(perPush.flat())).toEqual([]);
    });

    it('resets the count after a break tag flush', () => {
      const { perPush } = shapeTokens([...words(FLUSH_AFTER_CHARS / 10), '<break time="1s"/>', 'then,']);

      expect(perPush.at(-1)).toEqual([{ content: 'then,' }]);
    });
  });
});

describe('shapeCompleteText', () => {
  it('returns plain text as a single piece', () => {
    expect(shapeCompleteText('Hello! How can I help?')).toEqual([{ content: 'Hello! How can I help?' }]);
  });

  it('applies break tags and keeps the unfinished tail', () => {
    expect(shapeCompleteText('Hello.<break time="300ms"/> How can I help? <break')).toEqual([
      { content: 'Hello.', flush: true, pause: 300 },
      { content: ' How can I help? ' },
      { content: '<break' },
    ]);
  });

  it('keeps every character of text without tags', () => {
    const text = `Thanks for calling, ${'we are glad to have you, '.repeat(10)}goodbye.`;

    expect(textOf(shapeCompleteText(text))).toBe(text);
  });

  it('returns nothing for empty text', () => {
    expect(shapeCompleteText('')).toEqual([]);
  });
});
