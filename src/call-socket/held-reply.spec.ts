import type { ReplyChunk } from '../llm/llm-reply';
import { HeldReply } from './held-reply';

const request = {
  transcript: [{ role: 'user' as const, content: 'Hi' }],
  promptContext: {},
  agent: { agentId: 'a', systemPrompt: 'Be brief.', model: 'm', temperature: 0, tools: [], transferDestinations: [] },
  rounds: [],
  toolsAllowed: true,
};

/** A source the test feeds chunk by chunk. */
function feed() {
  const queue: Array<ReplyChunk | Error | 'end'> = [];
  let wake: (() => void) | null = null;
  async function* source(): AsyncGenerator<ReplyChunk> {
    for (;;) {
      const next = queue.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (next === 'end') return;
      if (next instanceof Error) throw next;
      yield next;
    }
  }
  const push = (item: ReplyChunk | Error | 'end') => {
    queue.push(item);
    wake?.();
    wake = null;
  };
  return { source: source(), push };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('HeldReply', () => {
  it('replays what it held at once, then what arrives after, and notes the first output, usage and provider', async () => {
    const held = new HeldReply(request.transcript, 'Hi', request);
    const { source, push } = feed();
    const holding = held.hold(source);
    push({ type: 'provider', provider: 'default', model: 'm' });
    push({ type: 'text', text: 'Hel' });
    await flush();
    expect(held.firstOutputAt).not.toBeNull();
    expect(held).toMatchObject({ provider: 'default', model: 'm', textDeltas: 1, settled: false });

    const replayed: ReplyChunk[] = [];
    const replay = (async () => {
      for await (const chunk of held.replay()) replayed.push(chunk);
    })();
    await flush();
    expect(replayed.map((c) => c.type)).toEqual(['provider', 'text']);
    push({ type: 'text', text: 'lo' });
    push({ type: 'usage', usage: { promptTokens: 5, completionTokens: 2, totalTokens: 7 } });
    push('end');
    await Promise.all([holding, replay]);
    expect(replayed.map((c) => c.type)).toEqual(['provider', 'text', 'text', 'usage']);
    expect(held).toMatchObject({ settled: true, failed: false, textDeltas: 2, usage: { totalTokens: 7 } });
  });

  it('keeps a failure and throws it to the replay', async () => {
    const held = new HeldReply(request.transcript, 'Hi', request);
    const { source, push } = feed();
    push({ type: 'text', text: 'Hi' });
    push(new Error('stream cut'));
    await held.hold(source);
    expect(held.failed).toBe(true);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of held.replay()) seen.push(chunk.type);
      })(),
    ).rejects.toThrow('stream cut');
    expect(seen).toEqual(['text']);
  });

  it('notes tool calls as output, and that the model wanted tools', async () => {
    const held = new HeldReply(request.transcript, 'Hi', request);
    const { source, push } = feed();
    push({ type: 'tool_calls', calls: [{ id: 'c1', name: 'lookup', arguments: '{}' }] });
    push('end');
    await held.hold(source);
    expect(held.wantsTools).toBe(true);
    expect(held.firstOutputAt).not.toBeNull();
  });

  it('saved: its time to the first output when that came before the confirmation, else its head start', () => {
    const held = new HeldReply(request.transcript, 'Hi', request);
    expect(held.savedMs(held.startedAt + 300)).toBe(300);
    held.firstOutputAt = held.startedAt + 120;
    expect(held.savedMs(held.startedAt + 300)).toBe(120);
    expect(held.savedMs(held.startedAt + 80)).toBe(80);
    expect(held.savedMs(held.startedAt - 5)).toBe(0);
  });

  it("aborts its upstream request with the confirmed reply's signal, until unlinked", () => {
    const followed = new HeldReply(request.transcript, 'Hi', request);
    const reply = new AbortController();
    followed.follow(reply.signal);
    reply.abort('interrupted');
    expect(followed.controller.signal.reason).toBe('interrupted');

    const unlinked = new HeldReply(request.transcript, 'Hi', request);
    const over = new AbortController();
    unlinked.follow(over.signal)();
    over.abort('superseded');
    expect(unlinked.controller.signal.aborted).toBe(false);
  });
});
