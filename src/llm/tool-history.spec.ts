import type { ChatMessage } from './llm-client';
import { interleaveToolRounds, ToolRound } from './tool-history';

const round = (anchor: number, id: string): ToolRound => ({
  anchor,
  streamId: anchor,
  assistantText: null,
  calls: [{ id, name: 'lookup', arguments: '{}' }],
  results: [{ toolCallId: id, content: '{"ok":true}' }],
});

describe('interleaveToolRounds', () => {
  const transcript: ChatMessage[] = [
    { role: 'assistant', content: 'Hello.' },
    { role: 'user', content: 'Is Monday free?' },
    { role: 'assistant', content: 'Yes, Monday is free.' },
    { role: 'user', content: 'Book it.' },
  ];

  it('replays each round right after the transcript entries that preceded its turn', () => {
    const messages = interleaveToolRounds(transcript, [round(2, 'a'), round(4, 'b')]);

    expect(
      messages.map((m) =>
        m.role === 'tool' ? `tool:${m.toolCallId}` : m.role === 'assistant' && m.toolCalls ? 'calls' : m.content,
      ),
    ).toEqual(['Hello.', 'Is Monday free?', 'calls', 'tool:a', 'Yes, Monday is free.', 'Book it.', 'calls', 'tool:b']);
  });

  it('drops a round anchored beyond the transcript, calls and results together', () => {
    expect(interleaveToolRounds(transcript.slice(0, 2), [round(4, 'b')])).toEqual(transcript.slice(0, 2));
  });
});
