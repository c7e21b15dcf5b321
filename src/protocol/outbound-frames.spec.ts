import fc from 'fast-check';
import { serializeFrame, serializeStreamResponse, streamResponse, StreamResponseData } from './outbound-frames';

/** The object form, with flush and pause present only when given, as a caller would build it. */
function objectForm(streamId: number, content: string, endOfStream: boolean, flush?: boolean, pause?: number): string {
  const data: StreamResponseData = { stream_id: streamId, content, end_of_stream: endOfStream };
  if (flush !== undefined) data.flush = flush;
  if (pause !== undefined) data.pause = pause;
  return serializeFrame(streamResponse(data));
}

/** Whole code points, lone surrogates, control characters and the characters JSON escapes. */
const content = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      '\ud800',
      '\udfff',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u2028',
      '\u2029',
      '"',
      '\\',
      '/',
      '\n',
      '\t',
      '€',
      '🙂',
      'a',
    ),
    maxLength: 20,
  }),
  fc.string({ maxLength: 40 }),
);
const number = fc.oneof(
  fc.integer({ min: 0, max: 2_147_483_647 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, 1e21, 1e-7, NaN, Infinity),
);

describe('serializeStreamResponse', () => {
  it('writes byte for byte what JSON.stringify writes of the object form', () => {
    fc.assert(
      fc.property(
        number,
        content,
        fc.boolean(),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.option(number, { nil: undefined }),
        (id, text, end, flush, pause) => {
          expect(serializeStreamResponse(id, text, end, flush, pause)).toBe(objectForm(id, text, end, flush, pause));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('writes the frames of docs/protocol.md', () => {
    expect(serializeStreamResponse(1, 'We are', false)).toBe(
      '{"type":"stream_response","data":{"stream_id":1,"content":"We are","end_of_stream":false}}',
    );
    expect(serializeStreamResponse(1, '', true, true)).toBe(
      '{"type":"stream_response","data":{"stream_id":1,"content":"","end_of_stream":true,"flush":true}}',
    );
    expect(serializeStreamResponse(0, 'Hello Ada.', false, true, 700)).toBe(
      '{"type":"stream_response","data":{"stream_id":0,"content":"Hello Ada.","end_of_stream":false,"flush":true,"pause":700}}',
    );
  });

  it('escapes a lone surrogate as JSON.stringify does, so the text stays valid UTF-8', () => {
    const text = serializeStreamResponse(2, 'a\ud800b', false);

    expect(text).toContain('"content":"a\\ud800b"');
    expect(JSON.parse(text).data.content).toBe('a\ud800b');
  });
});
