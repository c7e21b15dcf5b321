import { randomUUID } from 'node:crypto';
import type { CompletionChunk, ToolCallRequest } from './llm-client';

type ToolCallDelta = Extract<CompletionChunk, { type: 'tool_call_delta' }>;

/**
 * Reassembles streamed tool calls: the first delta of a call carries its id and name,
 * the following ones pieces of its JSON arguments, all keyed by `index` (parallel
 * calls interleave or follow each other).
 */
export class ToolCallAccumulator {
  private readonly calls: Array<{ id: string; name: string; arguments: string }> = [];

  push(delta: ToolCallDelta): void {
    const call = (this.calls[delta.index] ??= { id: '', name: '', arguments: '' });
    if (delta.id) call.id = delta.id;
    if (delta.name) call.name = delta.name;
    if (delta.arguments) call.arguments += delta.arguments;
  }

  get size(): number {
    return this.calls.filter(Boolean).length;
  }

  /** The calls in index order; a provider that sent no id gets one, so every result can be matched. */
  complete(): ToolCallRequest[] {
    return this.calls
      .filter(Boolean)
      .map((call) => ({ id: call.id || `call_${randomUUID()}`, name: call.name, arguments: call.arguments }));
  }
}
