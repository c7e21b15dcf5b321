import { preciseNow } from './clock';

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Microseconds since the epoch, read back from the string. */
function toMicros(timestamp: string): number {
  const millis = Date.parse(`${timestamp.slice(0, 23)}Z`);
  return millis * 1000 + Number(timestamp.slice(23, 26));
}

describe('preciseNow', () => {
  it('formats as ISO 8601 UTC with six fractional digits', () => {
    const timestamp = preciseNow();

    expect(timestamp).toMatch(ISO_MICROS);
    expect(Number.isNaN(Date.parse(timestamp))).toBe(false);
  });

  it('is strictly increasing over 1000 consecutive calls', () => {
    const stamps = Array.from({ length: 1000 }, () => preciseNow());
    const micros = stamps.map(toMicros);

    for (let i = 1; i < stamps.length; i++) {
      expect(micros[i]).toBeGreaterThan(micros[i - 1]);
      // The fixed-width format also sorts as text, as a database column would.
      expect(stamps[i] > stamps[i - 1]).toBe(true);
    }
    expect(stamps.every((s) => ISO_MICROS.test(s))).toBe(true);
  });

  it('stays within a few milliseconds of Date.now()', () => {
    for (let i = 0; i < 20; i++) {
      const before = Date.now();
      const millis = toMicros(preciseNow()) / 1000;
      const after = Date.now();

      expect(millis).toBeGreaterThanOrEqual(before - 5);
      expect(millis).toBeLessThanOrEqual(after + 5);
    }
  });

  it('keeps increasing across a pause', async () => {
    const first = toMicros(preciseNow());
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = toMicros(preciseNow());

    expect(second - first).toBeGreaterThanOrEqual(15_000);
  });
});
