import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';
import type { DiscardReason } from './held-reply';

/** Preemptive replies: started, used, discarded (and what the discarded ones cost), the wait saved. */
@Injectable()
export class PreemptionMetrics {
  private readonly startedCount: Counter;
  private readonly usedCount: Counter;
  private readonly discardedCount: Counter;
  private readonly discardedTokens: Counter;
  private readonly saved: Histogram;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.startedCount = new Counter({
      name: 'millis_preemptive_replies_started_total',
      help: 'Replies started on a final partial transcript, before their stream_request',
      registers,
    });
    this.usedCount = new Counter({
      name: 'millis_preemptive_replies_used_total',
      help: 'Preemptive replies confirmed by their stream_request and spoken',
      registers,
    });
    this.discardedCount = new Counter({
      name: 'millis_preemptive_replies_discarded_total',
      help: 'Preemptive replies thrown away unspoken, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.discardedTokens = new Counter({
      name: 'millis_preemptive_discarded_tokens_total',
      help: 'Tokens (prompt and completion; estimated when the request was cut before its usage) of discarded preemptive replies',
      registers,
    });
    this.saved = new Histogram({
      name: 'millis_preemption_saved_seconds',
      help: "The caller's wait a used preemptive reply saved (its head start, up to its first token)",
      buckets: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3],
      registers,
    });
  }

  started(): void {
    this.startedCount.inc();
  }

  used(savedMs: number): void {
    this.usedCount.inc();
    this.saved.observe(savedMs / 1000);
  }

  discarded(reason: DiscardReason, totalTokens: number): void {
    this.discardedCount.inc({ reason });
    if (totalTokens > 0) this.discardedTokens.inc(totalTokens);
  }
}
