import 'reflect-metadata';
import fc from 'fast-check';
import { parseInboundFrame } from './frame-parser';
import { INBOUND_FRAME_TYPES, ParsedFrame, StartCallDto, StreamRequestDto } from './inbound-frames';

const OPTIONS = { maxFrameBytes: 1024 * 1024 };
const EVENTS = [...INBOUND_FRAME_TYPES, 'invalid'];

/** Names that live on Object.prototype (or look special to JS code): each once broke or bent a parser. */
const PROTOTYPE_KEYS = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupGetter__',
  'prototype',
  'then',
  'length',
];
const prototypeKey = fc.constantFrom(...PROTOTYPE_KEYS);
const anyKey = fc.oneof(prototypeKey, fc.string({ maxLength: 8 }));

/** Any JSON value, its objects keyed with prototype names half the time, at every depth. */
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'json' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 12 }),
    fc.array(tie('json'), { maxLength: 4, depthIdentifier: 'json' }),
    fc.dictionary(anyKey, tie('json'), { maxKeys: 5, depthIdentifier: 'json' }),
  ),
}));
const jsonObject = fc.dictionary(anyKey, json, { maxKeys: 6 });
/** Fields outside the protocol, all named after prototype members. */
const strayFields = fc.dictionary(prototypeKey, json, { maxKeys: 4 });

/** `{...base, ...extra}` without Object.assign's setter call on a "__proto__" key. */
function withFields(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const result = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

function parse(frame: unknown): ParsedFrame {
  return parseInboundFrame(JSON.stringify(frame), OPTIONS);
}

function expectWellFormed(result: ParsedFrame): void {
  expect(EVENTS).toContain(result.event);
  if (result.event === 'invalid') {
    const invalid = result.data;
    expect(typeof invalid.reason).toBe('string');
    expect(typeof invalid.detail).toBe('string');
  }
}

describe('parseInboundFrame: properties', () => {
  it('never throws for any JSON, and always says what it got', () => {
    fc.assert(
      fc.property(json, (value) => {
        expectWellFormed(parse(value));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws for any data under a known frame type', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...INBOUND_FRAME_TYPES),
        fc.oneof(json, jsonObject),
        strayFields,
        (type, data, stray) => {
          expectWellFormed(parse(withFields({ type, data, stream_id: 1 }, stray)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws when any start_call field holds any JSON', () => {
    const field = fc.constantFrom('stream_id', 'agent_id', 'session_id', 'call_sid', 'metadata', 'voip');
    fc.assert(
      fc.property(field, json, (name, value) => {
        const result = parse({ type: 'start_call', data: withFields(startCallData(), { [name]: value }) });
        expectWellFormed(result);
        if (result.event === 'invalid') expect(result.data.reason).toBe('invalid_fields');
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a valid start_call whatever its metadata keys, keeping the metadata exactly as sent', () => {
    fc.assert(
      fc.property(jsonObject, strayFields, strayFields, strayFields, (metadata, onFrame, onData, onVoip) => {
        const voip = withFields({ from: '+15550001', to: '+15550002' }, onVoip);
        const frame = withFields(
          { type: 'start_call', data: withFields({ ...startCallData(), metadata, voip }, onData) },
          onFrame,
        );

        const result = parse(frame);

        expect(result.event).toBe('start_call');
        const data = result.data as StartCallDto;
        // A plain object as JSON.parse made it (toStrictEqual trips over a "constructor" key).
        expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
        expect(JSON.stringify(data.metadata)).toBe(JSON.stringify(metadata));
        expect(data.voip).toMatchObject({ from: '+15550001', to: '+15550002' });
        expect(JSON.stringify(data)).toBe(JSON.stringify(frame.data));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts a valid stream_request whatever stray fields its entries carry, keeping them as received', () => {
    const entry = fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.string({ maxLength: 20 }) });
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, strayFields), { maxLength: 5 }), (entries) => {
        const transcript = entries.map(([e, stray]) => withFields(e, stray));

        const result = parse({ type: 'stream_request', data: { stream_id: 3, transcript } });

        expect(result.event).toBe('stream_request');
        const data = result.data as StreamRequestDto;
        expect(data.transcript.map(({ role, content }) => ({ role, content }))).toEqual(entries.map(([e]) => e));
        expect(JSON.stringify(data.transcript)).toBe(JSON.stringify(transcript));
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseInboundFrame: metadata keys named after prototype members', () => {
  it.each(PROTOTYPE_KEYS)('keeps a metadata key named %s, at the top and nested, with its value', (key) => {
    const text =
      `{"type":"start_call","data":{"stream_id":0,"agent_id":"a","session_id":"s",` +
      `"metadata":{"${key}":"top","nested":{"${key}":{"${key}":[1,{"${key}":null}]}},"plain":1}}}`;

    const result = parseInboundFrame(text, OPTIONS);

    expect(result.event).toBe('start_call');
    const metadata = (result.data as StartCallDto).metadata!;
    expect(Object.keys(metadata)).toEqual([key, 'nested', 'plain']);
    expect(JSON.stringify(metadata)).toBe(JSON.stringify(JSON.parse(text).data.metadata));
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });
});

function startCallData(): Record<string, unknown> {
  return { stream_id: 0, agent_id: 'agent-1', session_id: 'session-1' };
}
