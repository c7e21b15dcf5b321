import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseInboundFrame } from '../../../src/protocol/frame-parser';
import { INBOUND_FRAME_TYPES } from '../../../src/protocol/inbound-frames';
import type { OutboundFrame } from '../../../src/protocol/outbound-frames';

const ROOT = resolve(__dirname, '../../..');
const doc = readFileSync(resolve(ROOT, 'docs/protocol.md'), 'utf8');
const OUTBOUND_TYPES: Array<OutboundFrame['type']> = ['stream_response', 'end_call', 'transfer_call'];

/** Every JSON object in the doc's ```json blocks (one per line where a block holds several frames). */
function jsonExamples(): unknown[] {
  return [...doc.matchAll(/```json\n([\s\S]*?)```/g)].flatMap(([, block]) => {
    try {
      return [JSON.parse(block)];
    } catch {
      return block
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
    }
  });
}

describe('docs/protocol.md', () => {
  it('has a section for every frame, both ways', () => {
    for (const type of [...INBOUND_FRAME_TYPES, ...OUTBOUND_TYPES]) expect(doc).toContain(`### \`${type}\``);
  });

  it('shows inbound examples the service accepts, and outbound examples of every frame it sends', () => {
    const examples = jsonExamples() as Array<{ type: string; data?: Record<string, unknown> }>;
    const inbound = examples.filter((e) => (INBOUND_FRAME_TYPES as readonly string[]).includes(e.type));
    expect(new Set(inbound.map((e) => e.type))).toEqual(new Set(INBOUND_FRAME_TYPES));
    for (const example of inbound) {
      // The elided session ids ("74d62d26-...") are still strings.
      expect(parseInboundFrame(JSON.stringify(example), { maxFrameBytes: 1 << 20 }).event).toBe(example.type);
    }
    const outbound = examples.filter((e) => !inbound.includes(e));
    expect(new Set(outbound.map((e) => e.type))).toEqual(new Set(OUTBOUND_TYPES));
    for (const frame of outbound) expect(typeof frame.data?.stream_id).toBe('number');
  });

  it('is what the README links, and nothing links outside the repository', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/protocol.md)');
    for (const text of [readme, doc]) expect(text).not.toMatch(/\]\(\.\.\/(?!src\/|bench\/)/);
  });
});
