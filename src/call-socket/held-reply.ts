import { preciseNow } from '../common/clock';
import type { TokenUsage } from '../llm/llm-client';
import type { ReplyChunk, TranscriptTurn } from '../llm/llm-reply';
import type { FirstRoundRequest } from '../tools/tool-loop';

/** Why a preemptive reply was thrown away (call_events `preemption_discarded`, payload `reason`). */
export type DiscardReason = 'mismatch' | 'interrupt' | 'superseded' | 'call_ended' | 'failed';

/**
 * A preemptive reply: the model's first round, asked on the caller's final partial transcript
 * and read to its end into memory. Nothing of it is sent until a stream_request confirms
 * the same words; then `replay()` hands its chunks on, held ones at once and the rest as
 * they arrive, so the reply goes on streaming from the same upstream request.
 */
export class HeldReply {
  /** Aborts the upstream request: on discard, or with the confirmed reply's own signal. */
  readonly controller = new AbortController();
  readonly startedAt = performance.now();
  readonly startedAtIso = preciseNow();
  /** When the round first produced something a reply can go on with: text, or its tool calls. */
  firstOutputAt: number | null = null;
  /** Text deltas received: about one token each, the estimate when no usage came. */
  textDeltas = 0;
  usage: TokenUsage | null = null;
  provider: string | null = null;
  model: string | null = null;
  /** The model asked for tools: they run only after confirmation, in the confirmed reply's tool loop. */
  wantsTools = false;
  /** The round has ended (answered, failed or aborted). */
  settled = false;
  failure: unknown = undefined;
  private readonly chunks: ReplyChunk[] = [];
  private wake: (() => void) | null = null;

  constructor(
    /** The transcript the reply was asked with: the one a confirming stream_request must carry. */
    readonly transcript: TranscriptTurn[],
    /** The final partial's words. */
    readonly userText: string,
    /** How the round was asked, for the cost estimate of a discard. */
    readonly request: Omit<FirstRoundRequest, 'signal'>,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Reads the round to its end (or to the abort), keeping every chunk. Never rejects. */
  async hold(source: AsyncIterable<ReplyChunk>): Promise<void> {
    try {
      for await (const chunk of source) {
        if (chunk.type === 'text') {
          this.textDeltas++;
          this.firstOutputAt ??= performance.now();
        } else if (chunk.type === 'tool_calls') {
          this.wantsTools = true;
          this.firstOutputAt ??= performance.now();
        } else if (chunk.type === 'usage') {
          this.usage = chunk.usage;
        } else if (chunk.type === 'provider') {
          this.provider = chunk.provider;
          this.model = chunk.model;
        }
        this.chunks.push(chunk);
        this.notify();
      }
    } catch (error) {
      this.failure = error ?? new Error('preemptive reply failed');
    } finally {
      this.settled = true;
      this.notify();
    }
  }

  /**
   * The wait this reply saves when confirmed at `confirmedAt` (performance.now()): the time it
   * had been running, up to its first output. A reply whose first token was ready saved its
   * whole time to first token; one still waiting saved the head start it had.
   */
  savedMs(confirmedAt: number): number {
    const until = Math.min(confirmedAt, this.firstOutputAt ?? confirmedAt);
    return Math.max(0, Math.round(until - this.startedAt));
  }

  /**
   * From confirmation on, the held request is the confirmed reply's: its interrupt or supersede
   * aborts it upstream. Returns the unlink, for when the reply is over (the reply may stay
   * referenced as the call's last one; the held chunks need not).
   */
  follow(signal: AbortSignal): () => void {
    const abort = () => this.controller.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    return () => signal.removeEventListener('abort', abort);
  }

  /** The round's chunks for the confirmed reply: those held, then the rest as they arrive. */
  async *replay(): AsyncGenerator<ReplyChunk> {
    for (let next = 0; ;) {
      if (next < this.chunks.length) {
        yield this.chunks[next++];
        continue;
      }
      if (this.settled) {
        if (this.failed) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
