import { randomUUID } from 'node:crypto';
import type { CompletionChunk, ToolCallRequest } from './llm-client';

type ToolCallDelta = Extract<CompletionChunk, { type: 'tool_call_delta' }>;
type PendingCall = { id: string; name: string; arguments: string; index?: number };

/**
 * Reassembles streamed tool calls, whatever the provider's dialect:
 *
 * - OpenAI: the first piece of a call has its index, id and name, the following ones its
 *   index and pieces of the JSON arguments; parallel calls follow or interleave by index;
 * - the id (and name) repeated on every piece (DeepSeek, Qwen, Fireworks): same call;
 * - no index at all (Gemini's OpenAI endpoint, Ollama before 0.4.7): the id tells calls
 *   apart, a piece with neither continues the last call;
 * - every call at index 0 with its own id (Ollama): a new id is a new call;
 * - a call in one piece (Ollama, Groq): nothing to join.
 */
export class ToolCallAccumulator {
  private readonly calls: PendingCall[] = [];
  private readonly byIndex = new Map<number, PendingCall>();
  private readonly byId = new Map<string, PendingCall>();
  private last: PendingCall | undefined;

  push(delta: ToolCallDelta): void {
    let call = delta.id ? this.byId.get(delta.id) : undefined;
    if (!call && delta.index !== undefined) {
      const atIndex = this.byIndex.get(delta.index);
      if (atIndex && !(delta.id && atIndex.id && atIndex.id !== delta.id)) call = atIndex;
    }
    // Neither index nor id: the last call goes on, unless this piece names a new one.
    if (!call && delta.index === undefined && !delta.id && !(delta.name && this.last?.name)) call = this.last;
    if (!call) {
      call = { id: '', name: '', arguments: '' };
      this.calls.push(call);
    }
    if (delta.index !== undefined) {
      this.byIndex.set(delta.index, call);
      call.index ??= delta.index;
    }
    if (delta.id && !call.id) {
      call.id = delta.id;
      this.byId.set(delta.id, call);
    }
    if (delta.name && !call.name) call.name = delta.name;
    if (delta.arguments) call.arguments += delta.arguments;
    this.last = call;
  }

  get size(): number {
    return this.calls.length;
  }

  /**
   * The calls in index order (the order they began among equal or missing indexes); a
   * provider that sent no id gets one, so every result can be matched.
   */
  complete(): ToolCallRequest[] {
    return [...this.calls]
      .sort((a, b) => (a.index ?? Infinity) - (b.index ?? Infinity))
      .map((call) => ({ id: call.id || `call_${randomUUID()}`, name: call.name, arguments: call.arguments }));
  }
}
