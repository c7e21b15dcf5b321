import { runInNewContext } from 'node:vm';
import { describeError } from './describe-error';

describe('describeError', () => {
  it("gives an Error's message, or its stack when asked", () => {
    const error = new TypeError('bad input');
    expect(describeError(error)).toBe('bad input');
    expect(describeError(error, { stack: true })).toBe(error.stack);
  });

  it('knows an Error made in another realm, where instanceof Error is false', () => {
    const error: unknown = runInNewContext('new RangeError("out of range")');
    expect(error instanceof Error).toBe(false);
    expect(describeError(error)).toBe('out of range');
  });

  it('turns anything else into text without throwing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ code: 42 })).toBe('{"code":42}');
    expect(describeError(undefined)).toBe('undefined');
    expect(describeError(null)).toBe('null');
    expect(describeError(cyclic)).toBe('[object Object]');
  });
});
