import { Injectable } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/**
 * What a /metrics scrape answers: this process's registry, or with WORKERS the whole cluster's
 * totals, which the worker's link to the primary hands over at start (`useClusterTotals`), as it
 * plugs the other workers' calls into the activity feed.
 */
@Injectable()
export class MetricsScrape {
  private clusterTotals?: () => Promise<string>;

  constructor(private readonly metrics: MetricsService) {}

  useClusterTotals(read: () => Promise<string>): void {
    this.clusterTotals = read;
  }

  text(): Promise<string> {
    return this.clusterTotals ? this.clusterTotals() : this.metrics.registry.metrics();
  }
}
