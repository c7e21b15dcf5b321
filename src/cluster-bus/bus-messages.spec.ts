import fc from 'fast-check';
import { encodeNotifications, MAX_PARTS, MAX_PAYLOAD_BYTES, Reassembler } from './bus-messages';

const sender = { origin: '6f1c2b9e-0000-4000-8000-000000000001', group: 'host:8080' };

function roundTrip(payloads: string[], reassembler = new Reassembler()): unknown {
  let result: ReturnType<Reassembler['accept']> = null;
  for (const payload of payloads) result = reassembler.accept(payload);
  if (result === null || 'refused' in result) throw new Error(`not put together: ${JSON.stringify(result)}`);
  expect(result.sender).toEqual(sender);
  return result.message;
}

describe('bus messages: payloads under the NOTIFY limit', () => {
  it('sends a small message as one payload', () => {
    const payloads = encodeNotifications(sender, 1, { agentId: 'support' })!;

    expect(payloads).toHaveLength(1);
    expect(roundTrip(payloads)).toEqual({ agentId: 'support' });
  });

  it('cuts a large message into parts that each fit, and puts it together again', () => {
    const text = 'Ünïcødé "quoted" \\ and emoji 😀 and control \u0001 characters. '.repeat(2_000);
    const payloads = encodeNotifications(sender, 7, { text })!;

    expect(payloads.length).toBeGreaterThan(10);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(roundTrip(payloads)).toEqual({ text });
  });

  it('fits and restores any text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30_000 }), fc.nat(1_000_000), (text, sequence) => {
        const payloads = encodeNotifications(sender, sequence, { text })!;
        for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
        expect(roundTrip(payloads)).toEqual({ text });
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a message that would need more than MAX_PARTS parts', () => {
    expect(encodeNotifications(sender, 1, { text: 'x'.repeat(MAX_PARTS * MAX_PAYLOAD_BYTES) })).toBeNull();
  });

  it('keeps the parts of messages sent at the same time apart', () => {
    const first = encodeNotifications(sender, 1, { text: 'a'.repeat(20_000) })!;
    const second = encodeNotifications(sender, 2, { text: 'b'.repeat(20_000) })!;
    const reassembler = new Reassembler();
    const results = [first[0], second[0], ...first.slice(1), ...second.slice(1)].map((p) => reassembler.accept(p));

    expect(results.filter((r) => r !== null).map((r) => r !== null && 'message' in r && r.message)).toEqual([
      { text: 'a'.repeat(20_000) },
      { text: 'b'.repeat(20_000) },
    ]);
  });

  it('gives up a message whose parts stop coming', () => {
    let now = 0;
    const reassembler = new Reassembler(() => now);
    const parts = encodeNotifications(sender, 3, { text: 'c'.repeat(20_000) })!;
    reassembler.accept(parts[0]);
    expect(reassembler.incomplete).toBe(1);

    now = 60_000;
    reassembler.accept(encodeNotifications(sender, 4, { text: 'd'.repeat(20_000) })![0]);
    expect(reassembler.incomplete).toBe(1);
  });

  it('refuses what is not a bus message, without throwing', () => {
    const reassembler = new Reassembler();

    expect(reassembler.accept('not json')).toEqual({ refused: 'not JSON' });
    expect(reassembler.accept('{"hello":1}')).toEqual({ refused: 'not a bus message' });
    expect(reassembler.accept(JSON.stringify({ v: 1, o: 'x', g: 'y', q: 1, i: 5, n: 2, c: '' }))).toEqual({
      refused: 'malformed part',
    });
  });
});
