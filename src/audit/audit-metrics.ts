import { Injectable } from '@nestjs/common';
import { Histogram } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { AuditWriter } from './audit-writer.service';

/** The write-behind audit's metrics: its backlog against the bound, what it wrote, what it could not. */
@Injectable()
export class AuditMetrics {
  constructor(audit: AuditWriter, config: AppConfig, metrics: MetricsService) {
    metrics.gauge(
      'millis_audit_queue_depth',
      'Audit rows waiting to be written to Postgres',
      () => audit.getStats().backlog,
    );
    // Peak and bound are per process (each worker has its own queue): the largest peak is what nears the bound.
    metrics.gauge(
      'millis_audit_queue_peak',
      'Largest audit backlog since start',
      () => audit.getStats().peakBacklog,
      'max',
    );
    metrics.gauge(
      'millis_audit_queue_bound',
      'AUDIT_MAX_BACKLOG: past it, new calls are refused',
      () => config.audit.maxBacklog,
      'first',
    );
    metrics.total(
      'millis_audit_rows_written_total',
      'Audit rows written to Postgres',
      () => audit.getStats().rowsWritten,
    );
    metrics.total(
      'millis_audit_failed_flushes_total',
      'Audit batches that failed and were retried',
      () => audit.getStats().failedFlushes,
    );
    metrics.total(
      'millis_audit_dead_lettered_total',
      'Audit rows written to the dead-letter file',
      () => audit.getStats().deadLettered,
    );
    const writeDuration = new Histogram({
      name: 'millis_audit_write_duration_seconds',
      help: 'Time to write one audit batch to Postgres, by outcome',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
    audit.onBatchWritten((durationMs, ok) =>
      writeDuration.observe({ outcome: ok ? 'ok' : 'failed' }, durationMs / 1000),
    );
  }
}
