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
