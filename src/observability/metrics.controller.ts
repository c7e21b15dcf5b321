import { Controller, Get, Logger, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsTokenGuard } from '../auth/metrics-token.guard';
import { describeError } from '../common/describe-error';
import { MetricsScrape } from './metrics-scrape';
import { MetricsService } from './metrics.service';

/** Prometheus scrape endpoint: this process's metrics, or with WORKERS the whole cluster's (aggregated by the primary). */
@ApiExcludeController()
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  private readonly logger = new Logger(MetricsController.name);

  constructor(
    private readonly metrics: MetricsService,
    private readonly scrapes: MetricsScrape,
  ) {}

  @Get()
  async scrape(@Res() res: Response): Promise<void> {
    let text: string;
    try {
      text = await this.scrapes.text();
    } catch (error) {
      // Partial totals would read as counters going down: the scrape fails instead.
      this.logger.warn(`Scrape failed: ${describeError(error)}`);
      res.status(503).type('text/plain').send('Metrics unavailable: the cluster did not answer in time.\n');
      return;
    }
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.send(text);
  }
}
