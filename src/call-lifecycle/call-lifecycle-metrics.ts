import { Injectable } from '@nestjs/common';
import { MetricsService } from '../observability/metrics.service';
import { CallLifecycle } from './call-lifecycle.service';

@Injectable()
export class CallLifecycleMetrics {
  constructor(lifecycle: CallLifecycle, metrics: MetricsService) {
    metrics.total(
      'millis_call_events_dispatched_total',
      'Call events (started, ended) handed to analysis and webhooks',
      () => lifecycle.stats.dispatched,
    );
    metrics.total(
      'millis_call_events_dispatch_failures_total',
      'Dispatches of call events that failed and are retried at the next poll',
      () => lifecycle.stats.failedDispatches,
    );
  }
}
