import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { describeError } from '../common/describe-error';
import { MetricsService } from '../observability/metrics.service';
import type { AttemptOutcome } from './webhook-sender';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';

export type AttemptResult = 'ok' | 'http_error' | 'no_answer';
export type DeliveryOutcome = 'delivered' | 'failed';

/** Webhook deliveries: how each ended, every attempt and its time, and how many are still to be sent. */
@Injectable()
export class WebhookMetrics {
  private readonly logger = new Logger(WebhookMetrics.name);
  private readonly deliveries: Counter<'outcome'>;
  private readonly attempts: Counter<'result'>;
  private readonly attemptDuration: Histogram<'result'>;

  constructor(metrics: MetricsService, repository: WebhookDeliveryRepository) {
    this.deliveries = new Counter({
      name: 'millis_webhook_deliveries_total',
      help: 'Webhook deliveries settled, by outcome (delivered, or failed after the last attempt or when stopped)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    this.attempts = new Counter({
      name: 'millis_webhook_attempts_total',
      help: 'Webhook delivery attempts, by result (ok: 2xx; http_error: another status; no_answer: refused, reset, timed out)',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
    this.attemptDuration = new Histogram({
      name: 'millis_webhook_attempt_duration_seconds',
      help: 'Time of one webhook delivery attempt, until the answer or the timeout, by result',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metrics.registry],
    });
    let lastPending = 0;
    const logger = this.logger;
    new Gauge({
      name: 'millis_webhook_deliveries_pending',
      help: 'Webhook deliveries not settled yet (waiting for an attempt or a retry), across every instance',
      // Every process reads the same table: the cluster's value is any one of them, not their sum.
      aggregator: 'max',
      registers: [metrics.registry],
      async collect() {
        try {
          lastPending = await repository.countPending();
        } catch (error) {
          logger.warn(`Could not count pending webhook deliveries: ${describeError(error)}`);
        }
        this.set(lastPending);
      },
    });
    for (const outcome of ['delivered', 'failed'] as const) this.deliveries.inc({ outcome }, 0);
    for (const result of ['ok', 'http_error', 'no_answer'] as const) this.attempts.inc({ result }, 0);
  }

  attempted(outcome: AttemptOutcome): void {
    const result: AttemptResult =
      outcome.error === null ? 'ok' : outcome.statusCode === null ? 'no_answer' : 'http_error';
    this.attempts.inc({ result });
    this.attemptDuration.observe({ result }, outcome.latencyMs / 1000);
  }

  settled(outcome: DeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }
}
