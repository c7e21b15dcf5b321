import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { CallActivity, CallActivityFeed } from '../call-activity/call-activity.feed';
import { MAX_TEXT_CHARS } from '../dashboard/live-calls-state';
import { describeError } from '../common/describe-error';
import { MetricsScrape } from '../observability/metrics-scrape';
import { MetricsService } from '../observability/metrics.service';
import { ClusterWorker } from './cluster-worker';

/**
 * The worker's side of the live view across the cluster: this worker's call activity goes to
 * the primary (batched per event-loop turn, in order), the other workers' comes back into the
 * feed, and the feed learns whether a live view is open elsewhere (then reply pieces are wanted).
 */
@Injectable()
export class WorkerActivityBridge implements OnApplicationBootstrap, OnApplicationShutdown {
  private queue: CallActivity[] = [];
  private flushScheduled = false;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly feed: CallActivityFeed,
    private readonly worker: ClusterWorker,
  ) {}

  /** After every module's init (the live view subscribes to the feed there), before listening. */
  onApplicationBootstrap(): void {
    this.worker.on('millis:activity', ({ events }) => events.forEach((activity) => this.feed.receive(activity)));
    this.worker.on('millis:viewers-elsewhere', ({ present }) => this.feed.setViewersElsewhere(present));
    // Joined first: the primary keeps the viewer counts of the workers that have joined.
    this.worker.send({ type: 'millis:live-join' });
    this.subscriptions.push(
      this.feed.activity$.subscribe((activity) => this.forward(activity)),
      this.feed.viewers$.subscribe((count) => this.worker.send({ type: 'millis:viewers', count })),
    );
  }

  /** Calls closed by the drain are sent before the process exits. */
  onApplicationShutdown(): void {
    this.flush();
    this.subscriptions.forEach((subscription) => subscription.unsubscribe());
  }

  private forward(activity: CallActivity): void {
    // Rejected frames and lost peers only feed this worker's metrics; the live view does not show them.
    if (activity.type === 'frame_rejected' || activity.type === 'peer_lost') return;
    // The live view keeps no more of a turn than this.
    if (activity.type === 'reply_finished' && activity.text !== undefined && activity.text.length > MAX_TEXT_CHARS) {
      activity = { ...activity, text: activity.text.slice(0, MAX_TEXT_CHARS) };
    }
    this.queue.push(activity);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    this.worker.send({ type: 'millis:activity', events });
  }
}

/**
 * The worker's side of /metrics across the cluster: a scrape here answers with the cluster's
 * totals, summed by the primary, and the primary's requests for this worker's own metrics are answered.
 */
@Injectable()
export class WorkerMetricsResponder implements OnApplicationBootstrap {
  private readonly logger = new Logger(WorkerMetricsResponder.name);

  constructor(
    private readonly metrics: MetricsService,
    private readonly scrape: MetricsScrape,
    private readonly worker: ClusterWorker,
  ) {}

  onApplicationBootstrap(): void {
    this.scrape.useClusterTotals(() => this.worker.clusterMetrics());
    this.worker.on('millis:metrics-collect', ({ id }) => {
      this.metrics.registry.getMetricsAsJSON().then(
        (metrics) => this.worker.send({ type: 'millis:metrics-collected', id, metrics }),
        (error: unknown) => {
          this.logger.error(`Reading this worker's metrics failed: ${describeError(error)}`);
          this.worker.send({ type: 'millis:metrics-collected', id, error: describeError(error) });
        },
      );
    });
  }
}
