import { Controller, Get, Logger, Optional, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ClusterWorker } from '../cluster/cluster-worker';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from '../auth/metrics-token.guard';

/** Prometheus scrape endpoint: this process's metrics, or with WORKERS the whole cluster's (aggregated by the primary). */
@ApiExcludeController()
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  private readonly logger = new Logger(MetricsController.name);

  constructor(
    private readonly metrics: MetricsService,
    @Optional() private readonly worker?: ClusterWorker,
  ) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    let text: string;
    try {
      text = this.worker ? await this.worker.clusterMetrics() : await this.metrics.registry.metrics();
    } catch (error) {
      // Partial totals would read as counters going down: the scrape fails instead.
      this.logger.warn(`Scrape failed: ${(error as Error).message}`);
      res.status(503).type('text/plain').send('Metrics unavailable: the cluster did not answer in time.\n');
      return;
    }
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(text);
  }
}
