import { Injectable } from '@nestjs/common';
import type { CircuitState } from './circuit-breaker';

/**
 * How one request to one provider ended: `answered` (it finished its reply), `failed`,
 * `cancelled` (the caller interrupted or hung up), `lost` (another provider answered a
 * hedged turn first and this request was aborted), `skipped` (its circuit was open).
 */
export type AttemptOutcome = 'answered' | 'failed' | 'cancelled' | 'lost' | 'skipped';

export type LlmProviderEvent =
  | {
      type: 'attempt';
      provider: string;
      outcome: AttemptOutcome;
      /** For `failed`: the error code (bounded). */
      cause?: string;
      /** Request to the first text or tool call (reasoning excluded), when one came. */
      firstTokenMs?: number;
      /** Time the model spent reasoning before its first text or tool call (or its end). */
      reasoningMs?: number;
    }
  | { type: 'circuit'; provider: string; state: CircuitState }
  /** A hedged turn started its second provider; `hedgeWon`: the second answered first. */
  | { type: 'hedge'; provider: string; hedgeWon: boolean };

/**
 * Per-provider events for metrics and extensions. Emitting is synchronous, at most a few
 * times per turn (never per token), and costs nothing without listeners.
 */
@Injectable()
export class LlmTelemetry {
  private listeners: Array<(event: LlmProviderEvent) => void> = [];

  /** Returns the function that stops listening. */
  listen(listener: (event: LlmProviderEvent) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  emit(event: LlmProviderEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
