import { isClusterMessage, PrimaryToWorker, WorkerToPrimary } from './messages';
import { PendingRequests } from './pending-requests';

/** The IPC channel to the primary as this class uses it: `process` in a worker, a fake in unit tests. */
export interface IpcChannel {
  readonly connected: boolean;
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** Longer than the primary's own wait for the workers' metrics, so its answer (or error) comes first. */
const METRICS_TIMEOUT_MS = 5_000;

type Handler<K extends PrimaryToWorker['type']> = (message: Extract<PrimaryToWorker, { type: K }>) => void;

/**
 * This process as a worker of the service's cluster (WORKERS): its slot (1 to WORKERS, taken over
 * by a replacement) and its channel to the primary. Provided only in workers, to the cluster's
 * own bridges: the rest of the service reads ProcessRole (instance name, migrations, health).
 */
export class ClusterWorker {
  private readonly metricsRequests = new PendingRequests<string>();
  private readonly handlers = new Map<string, (message: never) => void>();

  constructor(
    readonly slot: number,
    private readonly channel: IpcChannel,
  ) {
    channel.on('message', (message) => {
      if (isClusterMessage<PrimaryToWorker>(message)) this.dispatch(message);
    });
    this.on('millis:metrics-text', ({ id, text, error }) =>
      text === undefined
        ? this.metricsRequests.fail(id, new Error(error ?? 'no metrics'))
        : this.metricsRequests.resolve(id, text),
    );
  }

  /** Sends to the primary; a no-op once the channel is closed (the worker is about to exit). */
  send(message: WorkerToPrimary): void {
    if (this.channel.connected) this.channel.send(message);
  }

  /** One handler per message type from the primary. */
  on<K extends PrimaryToWorker['type']>(type: K, handler: Handler<K>): void {
    this.handlers.set(type, handler);
  }

  /** The metrics of every worker, aggregated by the primary, in Prometheus' text format. */
  clusterMetrics(): Promise<string> {
    if (!this.channel.connected) return Promise.reject(new Error('cluster metrics: the primary is gone'));
    const { id, answer } = this.metricsRequests.open(METRICS_TIMEOUT_MS, 'cluster metrics');
    this.send({ type: 'millis:metrics-request', id });
    return answer;
  }

  private dispatch(message: PrimaryToWorker): void {
    this.handlers.get(message.type)?.(message as never);
  }
}
