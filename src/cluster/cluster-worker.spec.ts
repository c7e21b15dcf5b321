import { EventEmitter } from 'node:events';
import { ClusterWorker, IpcChannel } from './cluster-worker';

/** The worker's end of the IPC channel, with the primary played by the test. */
class FakeChannel extends EventEmitter implements IpcChannel {
  connected = true;
  readonly sent: Array<Record<string, unknown>> = [];
  send(message: unknown): boolean {
    this.sent.push(message as Record<string, unknown>);
    return true;
  }
  fromPrimary(message: unknown): void {
    this.emit('message', message);
  }
}

describe('ClusterWorker', () => {
  it('asks the primary for the cluster metrics and matches its answer by request id', async () => {
    const channel = new FakeChannel();
    const worker = new ClusterWorker(2, channel);
    const first = worker.clusterMetrics();
    const second = worker.clusterMetrics();
    const [a, b] = channel.sent as Array<{ type: string; id: number }>;
    expect(a.type).toBe('millis:metrics-request');
    expect(a.id).not.toBe(b.id);

    channel.fromPrimary({ type: 'millis:metrics-text', id: b.id, text: 'second' });
    channel.fromPrimary({ type: 'millis:metrics-text', id: a.id, error: 'a worker did not answer' });
    await expect(second).resolves.toBe('second');
    await expect(first).rejects.toThrow('a worker did not answer');
  });

  it('gives up after its timeout, and at once when the primary is gone', async () => {
    jest.useFakeTimers();
    try {
      const channel = new FakeChannel();
      const worker = new ClusterWorker(1, channel);
      const scrape = expect(worker.clusterMetrics()).rejects.toThrow(/no answer within 5000 ms/);
      await jest.advanceTimersByTimeAsync(5_000);
      await scrape;

      channel.connected = false;
      await expect(worker.clusterMetrics()).rejects.toThrow('the primary is gone');
      worker.send({ type: 'millis:viewers', count: 1 });
      expect(channel.sent).toHaveLength(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it("hands the primary's messages to the handler of their type, and ignores other libraries' messages", () => {
    const channel = new FakeChannel();
    const worker = new ClusterWorker(1, channel);
    const present: boolean[] = [];
    worker.on('millis:viewers-elsewhere', (message) => present.push(message.present));
    channel.fromPrimary({ type: 'prom-client:getMetricsReq', requestId: 1 });
    channel.fromPrimary('not an object');
    channel.fromPrimary({ type: 'millis:viewers-elsewhere', present: true });
    expect(present).toEqual([true]);
  });
});
