import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkerPort } from './activity-relay';
import type { PrimaryToWorker } from './messages';
import { MetricsAggregator } from './metrics-aggregator';

/** A worker with a registry of its own, answering the primary's collects as WorkerMetricsResponder does. */
class FakeWorker implements WorkerPort {
  readonly registry = new Registry();
  readonly calls = new Counter({
    name: 'millis_calls_started_total',
    help: 'h',
    labelNames: ['agent_id'],
    registers: [this.registry],
  });
  readonly bound = new Gauge({
    name: 'millis_audit_queue_bound',
    help: 'h',
    aggregator: 'first',
    registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: 'millis_reply_time_to_first_token_seconds',
    help: 'h',
    buckets: [0.1, 1],
    registers: [this.registry],
  });
  answer: 'yes' | 'never' | 'error' = 'yes';
  aggregator!: MetricsAggregator;
  collects = 0;

  constructor(readonly id: number) {
    this.bound.set(500);
  }

  send(message: PrimaryToWorker): void {
    if (message.type !== 'millis:metrics-collect') return;
    this.collects++;
    if (this.answer === 'never') return;
    if (this.answer === 'error')
      return void setImmediate(() => this.aggregator.collected(message.id, undefined, 'registry broken'));
    void this.registry
      .getMetricsAsJSON()
      .then((metrics) => this.aggregator.collected(message.id, JSON.parse(JSON.stringify(metrics)), undefined));
  }
}

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('MetricsAggregator', () => {
  let workers: FakeWorker[];
  let aggregator: MetricsAggregator;

  beforeEach(() => {
    workers = [new FakeWorker(1), new FakeWorker(2)];
    aggregator = new MetricsAggregator({ readyWorkers: () => workers, restarts: () => 3 });
    workers.forEach((w) => (w.aggregator = aggregator));
  });

  it('sums the counters and histograms of every worker, keeps per-process bounds once, and adds its own', async () => {
    workers[0].calls.inc({ agent_id: 'sales' }, 3);
    workers[1].calls.inc({ agent_id: 'sales' }, 4);
    workers[1].calls.inc({ agent_id: 'support' });
    workers[0].ttft.observe(0.05);
    workers[1].ttft.observe(0.5);

    const text = await aggregator.clusterMetrics();
    expect(sample(text, 'millis_calls_started_total{agent_id="sales"}')).toBe(7);
    expect(sample(text, 'millis_calls_started_total{agent_id="support"}')).toBe(1);
    expect(sample(text, 'millis_reply_time_to_first_token_seconds_count')).toBe(2);
    expect(sample(text, 'millis_reply_time_to_first_token_seconds_bucket{le="0.1"}')).toBe(1);
    expect(sample(text, 'millis_audit_queue_bound')).toBe(500);
    expect(sample(text, 'millis_cluster_workers')).toBe(2);
    expect(sample(text, 'millis_cluster_worker_restarts_total')).toBe(3);
  });

  it('collects once for scrapes that arrive together', async () => {
    const [a, b] = await Promise.all([aggregator.clusterMetrics(), aggregator.clusterMetrics()]);
    expect(a).toBe(b);
    expect(workers.map((w) => w.collects)).toEqual([1, 1]);
    await aggregator.clusterMetrics();
    expect(workers.map((w) => w.collects)).toEqual([2, 2]);
  });

  it('fails the scrape when a worker cannot read its metrics', async () => {
    workers[1].answer = 'error';
    await expect(aggregator.clusterMetrics()).rejects.toThrow('registry broken');
  });

  it('leaves out a worker that exits while asked, instead of waiting for it', async () => {
    workers[0].calls.inc({ agent_id: 'sales' }, 2);
    workers[1].answer = 'never';
    const scrape = aggregator.clusterMetrics();
    await new Promise((resolve) => setImmediate(resolve));
    aggregator.left(2);
    expect(sample(await scrape, 'millis_calls_started_total{agent_id="sales"}')).toBe(2);
  });

  it('fails the scrape when a worker does not answer in time', async () => {
    jest.useFakeTimers();
    try {
      workers[1].answer = 'never';
      const scrape = aggregator.clusterMetrics();
      const failed = expect(scrape).rejects.toThrow(/no answer within 3000 ms/);
      await jest.advanceTimersByTimeAsync(3_000);
      await failed;
    } finally {
      jest.useRealTimers();
    }
  });
});
