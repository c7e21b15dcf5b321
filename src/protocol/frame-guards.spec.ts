import 'reflect-metadata';
import { validateSync, ValidationError } from 'class-validator';
import fc from 'fast-check';
import { DEPTH_PROBLEM, guardFor, MAX_FRAME_DEPTH } from './frame-guards';
import { toFrameInstance } from './frame-instance';
import { parseInboundFrame } from './frame-parser';
import {
  INBOUND_FRAME_DTOS,
  INBOUND_FRAME_TYPES,
  InboundFrameType,
  InvalidFrame,
  MAX_STREAM_ID,
} from './inbound-frames';

/**
 * The guards are the parser's rules; the DTOs are the documented schema. These properties
 * hold the two to the same answer on valid frames and on frames wrong in small ways.
 */

const RUNS_PER_TYPE = 3000;

/** The schema's answer, as the parser gave it before the guards: class-validator on the DTO. */
function dtoErrors(type: InboundFrameType, data: Record<string, unknown>): ValidationError[] {
  const frameClass = INBOUND_FRAME_DTOS[type] as new () => object;
  return validateSync(toFrameInstance(frameClass, data), { forbidUnknownValues: true });
}

/**
 * class-validator throws on an object with a `constructor: null` key inside nested arrays
 * (`transcript: [[{"constructor": null}]]`): it looks the object's class up through that
 * key. The old parser threw there too; such a frame is not valid.
 */
function dtoVerdict(type: InboundFrameType, data: Record<string, unknown>): { valid: boolean; blamed?: string[] } {
  let errors: ValidationError[];
  try {
    errors = dtoErrors(type, data);
  } catch (error) {
    if (error instanceof TypeError) return { valid: false };
    throw error;
  }
  return { valid: errors.length === 0, blamed: blamedPaths(errors) };
}

/** Paths of the DTO errors that carry a constraint, down to the first field that is wrong. */
function blamedPaths(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    if (error.property === undefined) return [];
    const path = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints && Object.keys(error.constraints).length > 0) return [path];
    return blamedPaths(error.children ?? [], path);
  });
}

const MISSING = Symbol('missing');

/** Names on Object.prototype, or special to JS code, as field names. */
const PROTOTYPE_KEYS = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  'then',
  'length',
];
const anyKey = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 6 }));

const oddNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    MAX_STREAM_ID,
    MAX_STREAM_ID + 1,
    -1,
    0.5,
    1.5,
    -0.5,
    NaN,
    Infinity,
    -Infinity,
    1e21,
    2 ** 53,
    -(2 ** 31),
  ),
  fc.integer(),
  fc.double(),
);
const oddString = fc.oneof(
  fc.constantFrom('', ' ', 'user', 'assistant', 'system', 'User', 'tool', '0', 'null', 'true'),
  fc.string({ maxLength: 8 }),
);

/** Any JSON-like value (plus NaN and the infinities), shallow: depth is tested on its own below. */
const { anyValue } = fc.letrec<{ anyValue: unknown }>((tie) => ({
  anyValue: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'value' },
    fc.constant(null),
    fc.boolean(),
    oddNumber,
    oddString,
    fc.array(tie('anyValue'), { maxLength: 3, depthIdentifier: 'value' }),
    fc.dictionary(anyKey, tie('anyValue'), { maxKeys: 3, depthIdentifier: 'value' }),
  ),
}));
const anyObject = fc.dictionary(anyKey, anyValue, { maxKeys: 4 });

/** Mostly the valid value, sometimes any other value or no field at all. */
function field(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constant(MISSING) },
  );
}

/** An object of `fields` (MISSING ones left out) plus stray fields, some named after prototype members. */
function frameObject(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(fc.record(fields), fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: anyObject }))
    .map(([declared, stray]) => {
      const result: Record<string, unknown> = {};
      for (const [key, value] of [...Object.entries(stray), ...Object.entries(declared)]) {
        if (value === MISSING) continue;
        // defineProperty: a "__proto__" key stays a field, as JSON.parse makes it.
        Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return result;
    });
}

const streamId = field(fc.oneof(fc.integer({ min: 0, max: MAX_STREAM_ID }), fc.constantFrom(0, MAX_STREAM_ID)));
const string = fc.string({ maxLength: 10 });
const optional = (valid: fc.Arbitrary<unknown>) => field(fc.oneof(valid, fc.constant(null), fc.constant(MISSING)));

const voip = frameObject({ from: field(string), to: field(string) });
const entry = fc.oneof(
  { weight: 20, arbitrary: frameObject({ role: field(fc.constantFrom('user', 'assistant')), content: field(string) }) },
  { weight: 1, arbitrary: anyValue },
);

const DATA: Record<InboundFrameType, fc.Arbitrary<Record<string, unknown>>> = {
  start_call: frameObject({
    stream_id: streamId,
    agent_id: field(fc.string({ minLength: 1, maxLength: 10 })),
    session_id: field(fc.string({ minLength: 1, maxLength: 10 })),
    call_sid: optional(string),
    metadata: optional(anyObject),
    voip: optional(voip),
  }),
  stream_request: frameObject({ stream_id: streamId, transcript: field(fc.array(entry, { maxLength: 6 })) }),
  partial_transcript: frameObject({
    session_id: optional(string),
    transcript: field(string),
    is_final: field(fc.boolean()),
  }),
  playback_finished: frameObject({ session_id: optional(string), stream_id: streamId }),
  interrupt: frameObject({ stream_id: streamId }),
};

describe('frame guards agree with the DTOs', () => {
  it.each(INBOUND_FRAME_TYPES)(
    '%s: the guard accepts exactly what class-validator accepts, and blames the same fields',
    (type) => {
      const guard = guardFor(type)!;
      let accepted = 0;

      fc.assert(
        fc.property(DATA[type], (data) => {
          const dto = dtoVerdict(type, data);
          const problem = guard(data);

          expect(problem === undefined).toBe(dto.valid);
          if (problem === undefined) {
            accepted++;
            return;
          }
          expect(problem).not.toBe(DEPTH_PROBLEM);
          if (!problem.endsWith('…')) {
            for (const path of dto.blamed ?? []) expect(problem).toContain(path);
          }
        }),
        { numRuns: RUNS_PER_TYPE },
      );

      // Both answers must be common, or the property proves little.
      expect(accepted).toBeGreaterThan(RUNS_PER_TYPE * 0.15);
      expect(accepted).toBeLessThan(RUNS_PER_TYPE * 0.9);
    },
  );

  it.each<[string, InboundFrameType, Record<string, unknown>, string]>([
    [
      'a role outside the list',
      'stream_request',
      {
        stream_id: 1,
        transcript: [
          { role: 'user', content: 'a' },
          { role: 'user', content: 'b' },
          { role: 'system', content: 'c' },
        ],
      },
      'transcript.2.role must be one of: user, assistant',
    ],
    [
      'an entry that is not an object',
      'stream_request',
      { stream_id: 1, transcript: [{ role: 'user', content: 'a' }, []] },
      'transcript.1 must be an object',
    ],
    [
      'a content that is not a string',
      'stream_request',
      { stream_id: 1, transcript: [{ role: 'user', content: null }] },
      'transcript.0.content must be a string',
    ],
    [
      'a stream_id over the limit',
      'interrupt',
      { stream_id: MAX_STREAM_ID + 1 },
      `stream_id must be an integer from 0 to ${MAX_STREAM_ID}`,
    ],
    [
      'a voip number that is not a string',
      'start_call',
      { stream_id: 0, agent_id: 'a', session_id: 's', voip: { from: '1', to: 2 } },
      'voip.to must be a string',
    ],
    [
      'an empty agent_id',
      'start_call',
      { stream_id: 0, agent_id: '', session_id: 's' },
      'agent_id must be a non-empty string',
    ],
    [
      'is_final as a string',
      'partial_transcript',
      { transcript: 'x', is_final: 'false' },
      'is_final must be a boolean',
    ],
  ])('names the field path: %s', (_label, type, data, detail) => {
    expect(guardFor(type)!(data)).toBe(detail);
    expect(dtoErrors(type, data)).not.toHaveLength(0);
  });

  it('lists every problem, and stops listing on a frame of many', () => {
    const data = { stream_id: -1, transcript: Array.from({ length: 1000 }, () => ({ role: 'system', content: 1 })) };

    const problem = guardFor('stream_request')!(data)!;

    expect(problem).toMatch(
      /^stream_id must be .*; transcript\.0\.role must be .*; transcript\.0\.content must be a string; transcript\.1\.role/,
    );
    expect(problem.endsWith('; …')).toBe(true);
    expect(problem.length).toBeLessThan(700);
  });

  it('does not treat an inherited name as a frame type', () => {
    for (const name of [...PROTOTYPE_KEYS, '__defineGetter__']) expect(guardFor(name)).toBeUndefined();
  });
});

describe('the parser agrees with the parser it replaced', () => {
  /** The old parser's depth check, kept as the reference: every value, Object.values at every level. */
  function depthExceeds(value: unknown, limit: number): boolean {
    const stack: Array<[unknown, number]> = [[value, 1]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      if (typeof node !== 'object' || node === null) continue;
      if (depth > limit) return true;
      for (const child of Object.values(node)) stack.push([child, depth + 1]);
    }
    return false;
  }

  /** The old parser's answer for a frame that is JSON with a known type: event, or reason and whether depth was the problem. */
  function referenceParse(text: string): { event: string; tooDeep?: boolean; data?: unknown } {
    const message = JSON.parse(text) as Record<string, unknown>;
    const type = message.type as InboundFrameType;
    if (depthExceeds(message, MAX_FRAME_DEPTH)) return { event: 'invalid', tooDeep: true };
    const payload =
      type === 'interrupt' && message.data === undefined ? { stream_id: message.stream_id } : message.data;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
      return { event: 'invalid', tooDeep: false };
    if (!dtoVerdict(type, payload as Record<string, unknown>).valid) return { event: 'invalid', tooDeep: false };
    return { event: type, data: payload };
  }

  /** `levels` arrays and objects inside each other, ending in a primitive. */
  const nested = fc
    .tuple(fc.integer({ min: MAX_FRAME_DEPTH - 8, max: MAX_FRAME_DEPTH + 2 }), fc.boolean())
    .map(([levels, arraysFirst]) => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = (i % 2 === 0) === arraysFirst ? [value] : { a: value };
      return value;
    });

  /** Every object in a frame, so a deep value can be put in any of them. */
  function objectsIn(value: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
    if (typeof value !== 'object' || value === null) return found;
    if (!Array.isArray(value)) found.push(value as Record<string, unknown>);
    for (const child of Object.values(value)) objectsIn(child, found);
    return found;
  }

  const frame = fc
    .constantFrom(...INBOUND_FRAME_TYPES)
    .chain((type) =>
      fc.record({
        type: fc.constant(type),
        data: fc.oneof(
          { weight: 10, arbitrary: DATA[type] },
          { weight: 1, arbitrary: anyValue },
          { weight: 1, arbitrary: fc.constant(MISSING) },
        ),
        topStreamId: streamId,
        deep: fc.option(fc.tuple(nested, fc.nat()), { freq: 2 }),
      }),
    )
    .map(({ type, data, topStreamId, deep }) => {
      const message: Record<string, unknown> = { type };
      if (data !== MISSING) message.data = data;
      if (topStreamId !== MISSING) message.stream_id = topStreamId;
      // JSON text, as the socket delivers it; NaN and the infinities become null on the way.
      const parsed = JSON.parse(JSON.stringify(message)) as Record<string, unknown>;
      if (deep) {
        const [value, at] = deep;
        const objects = objectsIn(parsed);
        Object.defineProperty(objects[at % objects.length], 'deep', {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return JSON.stringify(parsed);
    });

  it('gives the same event, reason and depth verdict, and hands on the same data', () => {
    const seen = { valid: 0, tooDeep: 0, otherwise: 0 };

    fc.assert(
      fc.property(frame, (text) => {
        const expected = referenceParse(text);
        const actual = parseInboundFrame(text, { maxFrameBytes: 1 << 20 });

        expect(actual.event).toBe(expected.event);
        if (expected.event === 'invalid') {
          const invalid = actual.data as InvalidFrame;
          expect(invalid.reason).toBe('invalid_fields');
          expect(invalid.detail === DEPTH_PROBLEM).toBe(expected.tooDeep);
          seen[expected.tooDeep ? 'tooDeep' : 'otherwise']++;
        } else {
          expect(JSON.stringify(actual.data)).toBe(JSON.stringify(expected.data));
          seen.valid++;
        }
      }),
      { numRuns: 3000 },
    );

    expect(Math.min(seen.valid, seen.tooDeep, seen.otherwise)).toBeGreaterThan(200);
  });
});
