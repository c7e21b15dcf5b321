import { ToolCallAccumulator } from './tool-call-accumulator';

describe('ToolCallAccumulator', () => {
  it('joins the argument pieces of one call', () => {
    const acc = new ToolCallAccumulator();
    acc.push({ type: 'tool_call_delta', index: 0, id: 'call_1', name: 'book', arguments: '' });
    acc.push({ type: 'tool_call_delta', index: 0, arguments: '{"da' });
    acc.push({ type: 'tool_call_delta', index: 0, arguments: 'y":"mon"}' });

    expect(acc.complete()).toEqual([{ id: 'call_1', name: 'book', arguments: '{"day":"mon"}' }]);
  });

  it('keeps parallel calls apart by index, in index order, even interleaved', () => {
    const acc = new ToolCallAccumulator();
    acc.push({ type: 'tool_call_delta', index: 1, id: 'b', name: 'second', arguments: '{"x":' });
    acc.push({ type: 'tool_call_delta', index: 0, id: 'a', name: 'first', arguments: '{' });
    acc.push({ type: 'tool_call_delta', index: 1, arguments: '2}' });
    acc.push({ type: 'tool_call_delta', index: 0, arguments: '}' });

    expect(acc.size).toBe(2);
    expect(acc.complete()).toEqual([
      { id: 'a', name: 'first', arguments: '{}' },
      { id: 'b', name: 'second', arguments: '{"x":2}' },
    ]);
  });

  it('gives an id to a call the provider sent without one', () => {
    const acc = new ToolCallAccumulator();
    acc.push({ type: 'tool_call_delta', index: 0, name: 'end_call', arguments: '{}' });

    const [call] = acc.complete();
    expect(call.id).toMatch(/^call_/);
    expect(call.name).toBe('end_call');
  });

  it('is empty when no delta arrived', () => {
    expect(new ToolCallAccumulator().complete()).toEqual([]);
  });
});

describe('ToolCallAccumulator with the dialects of OpenAI-compatible providers', () => {
  const delta = (fields: Omit<Extract<Parameters<ToolCallAccumulator['push']>[0], object>, 'type'>) => ({
    type: 'tool_call_delta' as const,
    ...fields,
  });

  it('reads the id and name repeated on every piece as one call (DeepSeek, Qwen, Fireworks)', () => {
    const acc = new ToolCallAccumulator();
    acc.push(delta({ index: 0, id: 'call_1', name: 'book', arguments: '{"day"' }));
    acc.push(delta({ index: 0, id: 'call_1', name: 'book', arguments: ':"mon"}' }));

    expect(acc.complete()).toEqual([{ id: 'call_1', name: 'book', arguments: '{"day":"mon"}' }]);
  });

  it('tells calls without an index apart by their id, even interleaved (Gemini, early Ollama)', () => {
    const acc = new ToolCallAccumulator();
    acc.push(delta({ id: 'a', name: 'first', arguments: '{"q":' }));
    acc.push(delta({ id: 'b', name: 'second', arguments: '{"r":' }));
    acc.push(delta({ id: 'a', arguments: '1}' }));
    acc.push(delta({ id: 'b', arguments: '2}' }));

    expect(acc.complete()).toEqual([
      { id: 'a', name: 'first', arguments: '{"q":1}' },
      { id: 'b', name: 'second', arguments: '{"r":2}' },
    ]);
  });

  it('continues the last call with a piece that has neither index nor id, and starts a new one on a new name', () => {
    const acc = new ToolCallAccumulator();
    acc.push(delta({ name: 'first', arguments: '{"a"' }));
    acc.push(delta({ arguments: ':1}' }));
    acc.push(delta({ name: 'second', arguments: '{}' }));

    expect(acc.complete().map(({ name, arguments: args }) => [name, args])).toEqual([
      ['first', '{"a":1}'],
      ['second', '{}'],
    ]);
  });

  it('keeps whole calls apart when every one is numbered 0 with its own id (Ollama)', () => {
    const acc = new ToolCallAccumulator();
    acc.push(delta({ index: 0, id: 'x', name: 'glob', arguments: '{"pattern":"*"}' }));
    acc.push(delta({ index: 0, id: 'y', name: 'glob', arguments: '{"path":"docs"}' }));

    expect(acc.complete()).toEqual([
      { id: 'x', name: 'glob', arguments: '{"pattern":"*"}' },
      { id: 'y', name: 'glob', arguments: '{"path":"docs"}' },
    ]);
  });

  it('takes an id that arrives after the first piece', () => {
    const acc = new ToolCallAccumulator();
    acc.push(delta({ index: 0, arguments: '' }));
    acc.push(delta({ index: 0, id: 'late', name: 'lookup', arguments: '{}' }));

    expect(acc.complete()).toEqual([{ id: 'late', name: 'lookup', arguments: '{}' }]);
  });
});
