import { Injectable } from '@nestjs/common';
import { type Aggregator, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/**
 * prom-client defaults that are gauges named like counters (promtool refuses them); each is
 * the sum of its per-type gauge (`nodejs_active_handles{type}`, ...), which stays.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * The Prometheus registry of this process. It knows no feature: each owner registers its own
 * metrics here (the call socket its connections, the audit its backlog, ...), read when scraped.
 * Labels never carry phone numbers or session ids. Its own registry, so several apps in one
 * process (tests) do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
  }

  /**
   * A gauge read at each scrape. With WORKERS the primary sums it over the workers, unless
   * `aggregator` says otherwise.
   */
  gauge(name: string, help: string, read: () => number, aggregator: Aggregator = 'sum'): void {
    new Gauge({
      name,
      help,
      aggregator,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** A counter kept by its owner as a running total, read at each scrape. */
  total(name: string, help: string, read: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
}
