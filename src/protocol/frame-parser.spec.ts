import 'reflect-metadata';
import { INVALID_FRAME_PREVIEW_CHARS, MAX_FRAME_DEPTH, parseInboundFrame } from './frame-parser';
import { InvalidFrame, ParsedFrame, StartCallDto, StreamRequestDto } from './inbound-frames';

const OPTIONS = { maxFrameBytes: 64 * 1024 };

function parse(frame: unknown, options = OPTIONS): ParsedFrame {
  return parseInboundFrame(typeof frame === 'string' ? frame : JSON.stringify(frame), options);
}

function expectInvalid(result: ParsedFrame): InvalidFrame {
  expect(result.event).toBe('invalid');
  return result.data as InvalidFrame;
}

const startCall = (data: Record<string, unknown> = {}) => ({
  type: 'start_call',
  data: { stream_id: 0, agent_id: 'agent-1', session_id: 'session-1', ...data },
});

const streamRequest = (data: Record<string, unknown> = {}) => ({
  type: 'stream_request',
  data: { stream_id: 1, transcript: [{ role: 'user', content: 'Hello' }], ...data },
});

describe('parseInboundFrame: valid frames', () => {
  it('parses a phone start_call with every field', () => {
    const frame = startCall({
      stream_id: 0,
      call_sid: 'CA123',
      metadata: { customer: { name: 'Ada' } },
      voip: { from: '+15550001', to: '+15550002' },
    });
    const result = parse(frame);

    expect(result.event).toBe('start_call');
    const data = result.data as StartCallDto;
    // The data as JSON.parse made it: plain objects, nothing copied or added.
    expect(data).toStrictEqual(frame.data);
    expect(data).toMatchObject({
      stream_id: 0,
      agent_id: 'agent-1',
      session_id: 'session-1',
      call_sid: 'CA123',
      metadata: { customer: { name: 'Ada' } },
    });
    expect(data.voip).toEqual({ from: '+15550001', to: '+15550002' });
  });

  it('accepts a web start_call whose call_sid, voip and metadata are null', () => {
    const result = parse(startCall({ call_sid: null, voip: null, metadata: null }));

    expect(result.event).toBe('start_call');
    const data = result.data as StartCallDto;
    expect(data.call_sid).toBeNull();
    expect(data.voip).toBeNull();
    expect(data.metadata).toBeNull();
  });

  it('accepts a start_call without the optional fields at all', () => {
    const result = parse(startCall());

    expect(result.event).toBe('start_call');
    expect(result.data).toMatchObject({ stream_id: 0, agent_id: 'agent-1', session_id: 'session-1' });
  });

  it('parses a stream_request with the whole transcript', () => {
    const transcript = [
      { role: 'assistant', content: 'Hi, how can I help?' },
      { role: 'user', content: 'What time is it?' },
    ];
    const result = parse(streamRequest({ stream_id: 7, transcript }));

    expect(result.event).toBe('stream_request');
    const data = result.data as StreamRequestDto;
    expect(data).toStrictEqual({ stream_id: 7, transcript });
    expect(data.stream_id).toBe(7);
    expect(data.transcript).toEqual(transcript);
  });

  it('accepts a stream_request with an empty transcript', () => {
    const result = parse(streamRequest({ transcript: [] }));

    expect(result.event).toBe('stream_request');
    expect((result.data as StreamRequestDto).transcript).toEqual([]);
  });

  it('parses a partial_transcript', () => {
    const result = parse({
      type: 'partial_transcript',
      data: { session_id: 's', transcript: 'I would li', is_final: false },
    });

    expect(result.event).toBe('partial_transcript');
    expect(result.data).toStrictEqual({ session_id: 's', transcript: 'I would li', is_final: false });
  });

  it('parses a playback_finished', () => {
    const result = parse({ type: 'playback_finished', data: { session_id: 's', stream_id: 3 } });

    expect(result.event).toBe('playback_finished');
    expect(result.data).toStrictEqual({ session_id: 's', stream_id: 3 });
  });

  it('parses an interrupt with stream_id at the top level, as the guide prints it', () => {
    const result = parse({ type: 'interrupt', stream_id: 4 });

    expect(result.event).toBe('interrupt');
    expect(result.data).toStrictEqual({ stream_id: 4 });
  });

  it('parses an interrupt with stream_id inside data', () => {
    const result = parse({ type: 'interrupt', data: { stream_id: 5 } });

    expect(result.event).toBe('interrupt');
    expect(result.data).toEqual({ stream_id: 5 });
  });
});

describe('parseInboundFrame: unusable frames', () => {
  it('refuses a binary frame without decoding it', () => {
    const invalid = expectInvalid(parseInboundFrame(Buffer.from('{"type":"interrupt","stream_id":1}'), OPTIONS));

    expect(invalid.reason).toBe('binary_frame');
    expect(invalid.bytes).toBe(34);
    expect(invalid.received).toBe('<34 bytes of binary>');
  });

  it.each<[string, ArrayBuffer | Buffer[]]>([
    ['an ArrayBuffer', new ArrayBuffer(10)],
    ['fragmented Buffers', [Buffer.alloc(4), Buffer.alloc(6)]],
  ])('refuses %s as binary, counting its bytes', (_label, raw) => {
    const invalid = expectInvalid(parseInboundFrame(raw, OPTIONS));

    expect(invalid).toEqual({
      reason: 'binary_frame',
      detail: expect.any(String),
      bytes: 10,
      received: '<10 bytes of binary>',
    });
  });

  it('refuses a frame over maxFrameBytes, counting UTF-8 bytes rather than characters', () => {
    // Each '€' is one character but three bytes: 111 characters, 191 bytes.
    const text = JSON.stringify({ type: 'partial_transcript', data: { transcript: '€'.repeat(40), is_final: false } });
    expect(text.length).toBeLessThanOrEqual(150);

    const invalid = expectInvalid(parseInboundFrame(text, { maxFrameBytes: 150 }));

    expect(invalid.reason).toBe('too_large');
    expect(invalid.bytes).toBe(Buffer.byteLength(text, 'utf8'));
    expect(invalid.received).toBe(text);
  });

  it('accepts a frame of exactly maxFrameBytes', () => {
    const text = JSON.stringify({ type: 'interrupt', stream_id: 1 });

    expect(parseInboundFrame(text, { maxFrameBytes: Buffer.byteLength(text) }).event).toBe('interrupt');
  });

  it('refuses text that is not JSON', () => {
    const invalid = expectInvalid(parse('{"type": "interrupt", '));

    expect(invalid.reason).toBe('not_json');
    expect(invalid.received).toBe('{"type": "interrupt", ');
    expect(invalid.detail).not.toBe('');
  });

  it.each([
    ['an array', '[{"type":"interrupt","stream_id":1}]'],
    ['a number', '42'],
    ['null', 'null'],
    ['a string', '"start_call"'],
  ])('refuses JSON that is %s as not_an_object', (_label, text) => {
    const invalid = expectInvalid(parse(text));

    expect(invalid.reason).toBe('not_an_object');
    expect(invalid.received).toBe(text);
  });

  it('refuses a frame without a type', () => {
    const invalid = expectInvalid(parse({ data: { stream_id: 1 } }));

    expect(invalid.reason).toBe('unknown_type');
    expect(invalid.detail).toMatch(/missing string field "type"/);
    expect(invalid.frameType).toBeUndefined();
  });

  it('refuses a frame whose type is not a string', () => {
    const invalid = expectInvalid(parse({ type: 7, data: {} }));

    expect(invalid.reason).toBe('unknown_type');
    expect(invalid.frameType).toBeUndefined();
  });

  it('refuses an unknown type and keeps the type name', () => {
    const invalid = expectInvalid(parse({ type: 'update_call', data: {} }));

    expect(invalid.reason).toBe('unknown_type');
    expect(invalid.frameType).toBe('update_call');
    expect(invalid.detail).toContain('update_call');
  });

  it.each<[string, unknown, RegExp]>([
    ['stream_id as a string', streamRequest({ stream_id: '1' }), /stream_id/],
    ['a negative stream_id', streamRequest({ stream_id: -1 }), /stream_id/],
    ['a float stream_id', streamRequest({ stream_id: 1.5 }), /stream_id/],
    ['a transcript that is not an array', streamRequest({ transcript: 'hello' }), /transcript must be an array/],
    [
      'a transcript role of system',
      streamRequest({ transcript: [{ role: 'system', content: 'x' }] }),
      /transcript\.0\.role/,
    ],
    [
      'a transcript content that is a number',
      streamRequest({ transcript: [{ role: 'user', content: 42 }] }),
      /transcript\.0\.content/,
    ],
    ['a transcript entry that is an array', streamRequest({ transcript: [[]] }), /transcript\.0 must be an object/],
    // class-validator threw on these (it looks a class up through the "constructor" key).
    [
      'nested arrays holding an object with a null constructor key',
      streamRequest({ transcript: [[{ constructor: null }]] }),
      /transcript\.0/,
    ],
    [
      'voip as nested arrays holding an object with a null constructor key',
      startCall({ voip: [[{ constructor: null }]] }),
      /voip/,
    ],
    ['a transcript entry that is null', streamRequest({ transcript: [null] }), /transcript/],
    ['voip as an array', startCall({ voip: [{ from: '+15550001', to: '+15550002' }] }), /voip/],
    ['voip as an empty array', startCall({ voip: [] }), /voip/],
    ['voip.from as a number', startCall({ voip: { from: 15550001, to: '+15550002' } }), /voip\.from/],
    ['metadata as an array', startCall({ metadata: ['a', 'b'] }), /metadata must be an object/],
    ['an empty agent_id', startCall({ agent_id: '' }), /agent_id/],
    ['is_final as a string', { type: 'partial_transcript', data: { transcript: 'hi', is_final: 'true' } }, /is_final/],
    ['an interrupt without a stream_id', { type: 'interrupt' }, /stream_id/],
    ['data that is not an object', { type: 'stream_request', data: [1, 2] }, /"data" must be an object/],
    ['data missing altogether', { type: 'playback_finished' }, /"data" must be an object/],
  ])('refuses %s as invalid_fields', (_label, frame, detail) => {
    const invalid = expectInvalid(parse(frame));

    expect(invalid.reason).toBe('invalid_fields');
    expect(invalid.frameType).toBe((frame as { type: string }).type);
    expect(invalid.detail).toMatch(detail);
  });

  describe('nesting depth', () => {
    /** `{a:{a:...{}}}`, `levels` objects deep. */
    const nested = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) value = { a: value };
      return value;
    };
    // The frame itself is level 1, data level 2, so metadata's own objects start at level 3.
    const metadataLevelsAllowed = MAX_FRAME_DEPTH - 2;

    it(`accepts a frame nested exactly ${MAX_FRAME_DEPTH} levels deep`, () => {
      expect(parse(startCall({ metadata: nested(metadataLevelsAllowed) })).event).toBe('start_call');
    });

    it(`refuses a frame nested deeper than ${MAX_FRAME_DEPTH} levels`, () => {
      const invalid = expectInvalid(parse(startCall({ metadata: nested(metadataLevelsAllowed + 1) })));

      expect(invalid.reason).toBe('invalid_fields');
      expect(invalid.frameType).toBe('start_call');
      expect(invalid.detail).toContain(`deeper than ${MAX_FRAME_DEPTH}`);
    });

    it('refuses very deep nesting without overflowing the stack', () => {
      const text = `{"type":"start_call","data":{"stream_id":0,"agent_id":"a","session_id":"s","metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`;

      expect(expectInvalid(parse(text)).reason).toBe('invalid_fields');
    });
  });

  it('truncates what it keeps of a huge non-JSON frame', () => {
    const text = 'not json at all '.repeat(1000);

    const invalid = expectInvalid(parse(text, { maxFrameBytes: 1024 * 1024 }));

    expect(invalid.reason).toBe('not_json');
    expect(invalid.bytes).toBe(text.length);
    expect(invalid.received).toBe(`${text.slice(0, INVALID_FRAME_PREVIEW_CHARS)}…`);
    expect((invalid.received as string).length).toBe(INVALID_FRAME_PREVIEW_CHARS + 1);
  });

  it('keeps a frame of exactly INVALID_FRAME_PREVIEW_CHARS characters whole', () => {
    const text = 'x'.repeat(INVALID_FRAME_PREVIEW_CHARS);

    expect(expectInvalid(parse(text)).received).toBe(text);
  });

  it.each(['toString', 'valueOf', 'hasOwnProperty', '__proto__'])(
    'refuses the inherited name %s as an unknown type without throwing',
    (type) => {
      const invalid = expectInvalid(parse(`{"type":"${type}","data":{}}`));

      expect(invalid.reason).toBe('unknown_type');
    },
  );

  it('refuses the inherited name constructor as an unknown type', () => {
    const invalid = expectInvalid(parse({ type: 'constructor', data: {} }));

    expect(invalid.reason).toBe('unknown_type');
  });
});

describe('parseInboundFrame: robustness', () => {
  /** mulberry32: a tiny deterministic PRNG so a failure can be reproduced. */
  function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const FRAGMENTS = [
    '{',
    '}',
    '[',
    ']',
    ':',
    ',',
    '"',
    '\\',
    'null',
    'true',
    '-1',
    '1e400',
    '0.5',
    '\u0000',
    '\ud800',
    '🙂',
    '"type"',
    '"data"',
    '"stream_id"',
    '"start_call"',
    '"stream_request"',
    '"interrupt"',
    '"transcript"',
    '"role"',
    '"user"',
    '"content"',
    '"voip"',
    '"metadata"',
    ' ',
    'x',
  ];
  const VALID_FRAMES = [
    JSON.stringify(startCall({ voip: { from: '1', to: '2' } })),
    JSON.stringify(streamRequest()),
    JSON.stringify({ type: 'interrupt', stream_id: 2 }),
    JSON.stringify({ type: 'partial_transcript', data: { transcript: 'hi', is_final: true } }),
  ];
  const EVENTS = ['start_call', 'stream_request', 'partial_transcript', 'playback_finished', 'interrupt', 'invalid'];

  it('never throws for random text and mutated frames', () => {
    const random = seededRandom(20240611);
    const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];

    for (let i = 0; i < 400; i++) {
      let text: string;
      if (i % 2 === 0) {
        text = Array.from({ length: 1 + Math.floor(random() * 40) }, () => pick(FRAGMENTS)).join('');
      } else {
        // Splice a random fragment into a valid frame, so many inputs get past JSON.parse.
        const frame = pick(VALID_FRAMES);
        const at = Math.floor(random() * frame.length);
        const cut = Math.floor(random() * 4);
        text = frame.slice(0, at) + pick(FRAGMENTS) + frame.slice(at + cut);
      }

      let result: ParsedFrame | undefined;
      expect(() => (result = parseInboundFrame(text, { maxFrameBytes: 512 }))).not.toThrow();
      expect(EVENTS).toContain(result!.event);
    }
  });
});
