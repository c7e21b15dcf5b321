import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';

export type AnalysisAttemptOutcome = 'completed' | 'retried' | 'failed';

/** Post-call analysis: attempts by how they ended, the tokens they cost, how long they took. */
@Injectable()
export class CallAnalysisMetrics {
  private readonly attempts: Counter<'status'>;
  private readonly tokens: Counter<'kind'>;
  private readonly duration: Histogram<'status'>;

  constructor(metrics: MetricsService) {
    this.attempts = new Counter({
      name: 'millis_call_analyses_total',
      help: 'Analysis attempts by how they ended: completed, retried (to be tried again) or failed (for good)',
      labelNames: ['status'],
      registers: [metrics.registry],
    });
    this.tokens = new Counter({
      name: 'millis_call_analysis_tokens_total',
      help: 'Tokens the analyses cost, by kind (prompt, completion)',
      labelNames: ['kind'],
      registers: [metrics.registry],
    });
    this.duration = new Histogram({
      name: 'millis_call_analysis_duration_seconds',
      help: 'Time of one analysis attempt (reading the call, the model, storing), by how it ended',
      labelNames: ['status'],
      buckets: [0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
      registers: [metrics.registry],
    });
    for (const status of ['completed', 'retried', 'failed'] satisfies AnalysisAttemptOutcome[])
      this.attempts.inc({ status }, 0);
  }

  attempt(status: AnalysisAttemptOutcome, durationMs: number): void {
    this.attempts.inc({ status });
    this.duration.observe({ status }, durationMs / 1000);
  }

  spent(promptTokens: number | null, completionTokens: number | null): void {
    if (promptTokens) this.tokens.inc({ kind: 'prompt' }, promptTokens);
    if (completionTokens) this.tokens.inc({ kind: 'completion' }, completionTokens);
  }
}
