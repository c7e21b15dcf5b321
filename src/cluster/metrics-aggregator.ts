import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { WorkerPort } from './activity-relay';
import type { MetricsJson } from './messages';
import { PendingRequests } from './pending-requests';

/** How long the primary waits for a worker's metrics; a worker that does not answer fails the scrape. */
const COLLECT_TIMEOUT_MS = 3_000;

export interface ClusterFacts {
  /** Workers listening now: they are the ones asked for their metrics. */
  readyWorkers(): WorkerPort[];
  /** Workers replaced after an unexpected exit, since the primary started. */
  restarts(): number;
}

/**
 * /metrics for the whole cluster: a scrape reaches one worker, which asks the primary; the primary
 * asks every listening worker for its own metrics and merges them with prom-client's
 * AggregatorRegistry (counters, histograms and most gauges summed; each metric's `aggregator`
 * says otherwise), adding the cluster's own. Scrapes that arrive together share one collection.
 * A worker that does not answer in time fails the scrape rather than make the totals drop.
 */
export class MetricsAggregator {
  private readonly registry = new Registry();
  private readonly collects = new PendingRequests<MetricsJson>();
  /** Collect request id → the worker asked. */
  private readonly asked = new Map<number, number>();
  private inFlight?: Promise<string>;

  constructor(private readonly cluster: ClusterFacts) {
    new Gauge({
      name: 'millis_cluster_workers',
      help: 'Worker processes listening (WORKERS)',
      registers: [this.registry],
      collect() {
        this.set(cluster.readyWorkers().length);
      },
    });
    new Counter({
      name: 'millis_cluster_worker_restarts_total',
      help: 'Workers that exited unexpectedly and were replaced',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(cluster.restarts());
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The whole cluster's metrics in Prometheus' text format. */
  clusterMetrics(): Promise<string> {
    return (this.inFlight ??= this.collect().finally(() => (this.inFlight = undefined)));
  }

  /** A worker's answer to `millis:metrics-collect`. */
  collected(id: number, metrics: MetricsJson | undefined, error: string | undefined): void {
    if (metrics) this.collects.resolve(id, metrics);
    else this.collects.fail(id, new Error(`a worker could not read its metrics: ${error ?? 'no reason given'}`));
  }

  /** A worker exited: what it was asked goes unanswered, and its calls are gone with it. */
  left(workerId: number): void {
    for (const [id, asked] of this.asked) if (asked === workerId) this.collects.resolve(id, []);
  }

  private async collect(): Promise<string> {
    const parts = await Promise.all(this.cluster.readyWorkers().map((worker) => this.collectFrom(worker)));
    parts.push(await this.registry.getMetricsAsJSON());
    return AggregatorRegistry.aggregate(parts).metrics();
  }

  private collectFrom(worker: WorkerPort): Promise<MetricsJson> {
    const { id, answer } = this.collects.open(COLLECT_TIMEOUT_MS, `metrics of worker process ${worker.id}`);
    this.asked.set(id, worker.id);
    worker.send({ type: 'millis:metrics-collect', id });
    return answer.finally(() => this.asked.delete(id));
  }
}
