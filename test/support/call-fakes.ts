import type { EventRecord, ExchangeRecord, SessionRecord } from '../../src/audit/audit-records';
import { CompletionChunk, CompletionRequest, LlmClient } from '../../src/llm/llm-client';

/** One model stream the test feeds by hand. Rejects like a real SDK once its signal aborts. */
export class FedStream {
  private readonly queue: Array<CompletionChunk | Error | 'end'> = [];
  private wake: (() => void) | null = null;

  constructor(readonly request: CompletionRequest) {
    request.signal.addEventListener('abort', () => this.wake?.());
  }

  get signal(): AbortSignal {
    return this.request.signal;
  }

  text(value: string): void {
    this.enqueue({ type: 'text', text: value });
  }

  /** One tool call in one piece, as a model asking for a tool sends it. */
  toolCall(index: number, id: string, name: string, args: string): void {
    this.enqueue({ type: 'tool_call_delta', index, id, name, arguments: args });
  }

  finish(): void {
    this.enqueue({ type: 'finish', reason: 'stop' });
    this.enqueue('end');
  }

  /** Ends the stream without a finish chunk, like a dropped connection. */
  cut(): void {
    this.enqueue('end');
  }

  fail(error: Error): void {
    this.enqueue(error);
  }

  async *chunks(): AsyncGenerator<CompletionChunk> {
    for (;;) {
      if (this.request.signal.aborted) throw Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
      const item = this.queue.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (item === 'end') return;
      if (item instanceof Error) throw item;
      yield item;
    }
  }

  private enqueue(item: CompletionChunk | Error | 'end'): void {
    this.queue.push(item);
    this.wake?.();
  }
}

export class FedLlmClient extends LlmClient {
  readonly streams: FedStream[] = [];

  streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk> {
    const stream = new FedStream(request);
    this.streams.push(stream);
    return stream.chunks();
  }
}

/** Stores a copy of every audit record, as the real writer would snapshot it. */
export class RecordingAudit {
  readonly sessions: SessionRecord[] = [];
  readonly exchanges: ExchangeRecord[] = [];
  readonly events: EventRecord[] = [];

  recordSession(record: SessionRecord): void {
    this.sessions.push({ ...record });
  }

  recordExchange(record: ExchangeRecord): void {
    this.exchanges.push({ ...record });
  }

  recordEvent(record: EventRecord): void {
    this.events.push(structuredClone(record));
  }

  /** Every snapshot recorded for one stream's exchange, oldest first. */
  exchangeHistory(streamId: number): ExchangeRecord[] {
    return this.exchanges.filter((e) => e.streamId === streamId);
  }

  latestExchange(streamId: number): ExchangeRecord {
    const history = this.exchangeHistory(streamId);
    if (history.length === 0) throw new Error(`no exchange recorded for stream ${streamId}`);
    return history[history.length - 1];
  }
}
