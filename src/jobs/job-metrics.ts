import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { describeError } from '../common/describe-error';
import { MetricsService } from '../observability/metrics.service';
import { JOB_STATES, JobMonitor } from './job-monitor';

/** How often the job counts are read for the metrics (a scrape reads the last reading). */
const REFRESH_MS = 15_000;

/** Jobs by queue and state, read from Postgres every 15 s (the same for every instance: max, not sum, over workers). */
@Injectable()
export class JobMetrics implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JobMetrics.name);
  private readonly jobs: Gauge;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly monitor: JobMonitor,
    metrics: MetricsService,
  ) {
    this.jobs = new Gauge({
      name: 'millis_jobs',
      help: 'Jobs by queue and state (completed, cancelled and failed: the last 12 hours)',
      labelNames: ['queue', 'state'],
      aggregator: 'max',
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      for (const { queue, counts } of await this.monitor.queues()) {
        for (const state of JOB_STATES) this.jobs.set({ queue, state }, counts[state]);
      }
    } catch (error) {
      // Not started yet, or Postgres is away: the last reading stays.
      this.logger.debug(`Job counts not read: ${describeError(error)}`);
    }
  }
}
