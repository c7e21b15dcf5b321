import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import cluster, { type Worker } from 'node:cluster';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { describeError } from '../common/describe-error';
import { warnAboutRiskyConfig } from '../configure-app';
import { connectionsPerProcess } from '../database/connection-budget';
import { EmbeddedPostgres } from '../database/embedded-postgres';
import { migrateDatabase } from '../database/migration-runner';
import { loggingParams, ServiceLogger } from '../observability/logging';
import { drainOnSignals, installProcessHandlers } from '../observability/process-handlers';
import { writeStartUpBanner } from '../observability/start-up-banner';
import { ActivityRelay, WorkerPort } from './activity-relay';
import { isClusterMessage, PrimaryToWorker, WorkerToPrimary } from './messages';
import { MetricsAggregator } from './metrics-aggregator';
import { RestartBackoff } from './restart-backoff';

/** The primary's own modules: the configuration (validated as the service validates it) and the logs. */
@Module({ imports: [AppConfigModule, LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: loggingParams })] })
class ClusterPrimaryModule {}

/**
 * The primary of WORKERS: serves nothing itself. It prepares the database once (the embedded
 * server when DATABASE_URL is unset, then the migrations), forks the workers with DATABASE_URL,
 * replaces those that die, relays the live view and aggregates /metrics between them, and on
 * SIGTERM/SIGINT/SIGHUP has every worker drain, waits for them, stops the embedded database and exits.
 */
export async function runPrimary(config: AppConfig): Promise<void> {
  const context = await NestFactory.createApplicationContext(ClusterPrimaryModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  context.useLogger(new ServiceLogger(context.get(PinoNestLogger)));
  installProcessHandlers(context.get(PinoNestLogger));
  const logger = new Logger('Cluster');
  warnAboutRiskyConfig(config);
  const primary = new ClusterPrimary(config, logger);

  drainOnSignals(
    logger,
    {
      starting: 'every worker drains its calls and flushes its audit',
      going: 'the workers are still draining calls and flushing the audit',
    },
    () => primary.stop(),
  );

  const workers = config.cluster.workers!;
  logger.log(`Primary (pid ${process.pid}) starting ${workers} worker(s)`);
  const embedded = config.database.url ? undefined : new EmbeddedPostgres();
  let exitCode = 1;
  try {
    // Each worker opens its own pools on the embedded server.
    const url =
      config.database.url ??
      (await embedded!.start(config.database.embeddedDir, workers * connectionsPerProcess(config)));
    await migrateDatabase(url);
    primary.start(url);
    exitCode = await primary.stopped;
  } catch (error) {
    logger.error(`Start-up failed: ${describeError(error, { stack: true })}`);
    primary.stop();
    await primary.stopped;
  } finally {
    await embedded?.stop();
  }
  logger.log(`Stopped (exit code ${exitCode})`);
  await context.close();
  process.exit(exitCode);
}

interface Member extends WorkerPort {
  slot: number;
  worker: Worker;
  forkedAt: number;
  ready: boolean;
}

/** The workers: forked, told apart by slot, replaced, and stopped. */
class ClusterPrimary {
  private readonly members = new Map<number, Member>();
  private readonly backoff = new RestartBackoff();
  private readonly replacements = new Map<number, NodeJS.Timeout>();
  private readonly relay = new ActivityRelay();
  private readonly metrics: MetricsAggregator;
  private databaseUrl = '';
  private phase: 'preparing' | 'starting' | 'running' | 'stopping' = 'preparing';
  private restarts = 0;
  private exitCode = 0;
  private settle!: (exitCode: number) => void;
  /** Resolves with the exit code once the workers are all gone after `stop()`. */
  readonly stopped = new Promise<number>((resolve) => (this.settle = resolve));

  constructor(
    private readonly config: AppConfig,
    private readonly logger: Logger,
  ) {
    this.metrics = new MetricsAggregator({
      readyWorkers: () => [...this.members.values()].filter((m) => m.ready),
      restarts: () => this.restarts,
    });
    cluster.on('message', (worker, message) => this.route(worker, message));
    cluster.on('exit', (worker, code, signal) => this.exited(worker, code, signal));
  }

  start(databaseUrl: string): void {
    if (this.phase !== 'preparing') return;
    this.databaseUrl = databaseUrl;
    this.phase = 'starting';
    for (let slot = 1; slot <= this.config.cluster.workers!; slot++) this.fork(slot);
  }

  /** Every worker drains (SIGTERM, which it handles as one process does); no more are forked. */
  stop(): void {
    if (this.phase === 'stopping') return;
    this.phase = 'stopping';
    for (const timer of this.replacements.values()) clearTimeout(timer);
    this.replacements.clear();
    // Not worker.kill(): it would close the IPC channel, which the drain still uses.
    for (const member of this.members.values()) member.worker.process.kill('SIGTERM');
    this.settleWhenAllGone();
  }

  private fork(slot: number): void {
    const worker = cluster.fork({ DATABASE_URL: this.databaseUrl, CLUSTER_WORKER_SLOT: String(slot) });
    const member: Member = {
      id: worker.id,
      slot,
      worker,
      forkedAt: Date.now(),
      ready: false,
      send: (message: PrimaryToWorker) => {
        if (worker.isConnected()) worker.send(message);
      },
    };
    // A message sent as the channel closes fails asynchronously; without a listener that would end the primary.
    worker.on('error', (error: Error) =>
      this.logger.warn(`Worker ${slot} (pid ${worker.process.pid}): ${error.message}`),
    );
    this.members.set(worker.id, member);
  }

  private route(worker: Worker, message: unknown): void {
    const member = this.members.get(worker.id);
    if (!member || !isClusterMessage<WorkerToPrimary>(message)) return;
    switch (message.type) {
      case 'millis:ready':
        member.ready = true;
        this.logger.log(`Worker ${member.slot} (pid ${worker.process.pid}) is ready`);
        if (
          this.phase === 'starting' &&
          [...this.members.values()].every((m) => m.ready) &&
          this.members.size === this.config.cluster.workers
        ) {
          this.phase = 'running';
          writeStartUpBanner(this.config, message.port);
        }
        return;
      case 'millis:live-join':
        return this.relay.join(member);
      case 'millis:activity':
        return this.relay.receive(member.id, message.events);
      case 'millis:viewers':
        return this.relay.viewers(member.id, message.count);
      case 'millis:metrics-request': {
        const { id } = message;
        this.metrics.clusterMetrics().then(
          (text) => member.send({ type: 'millis:metrics-text', id, text }),
          (error: unknown) => {
            this.logger.warn(`Cluster metrics failed: ${describeError(error)}`);
            member.send({ type: 'millis:metrics-text', id, error: describeError(error) });
          },
        );
        return;
      }
      case 'millis:metrics-collected':
        return this.metrics.collected(message.id, message.metrics, message.error);
    }
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const member = this.members.get(worker.id);
    if (!member) return;
    this.members.delete(worker.id);
    this.metrics.left(member.id);
    const name = `Worker ${member.slot} (pid ${worker.process.pid})`;
    const how = signal ? `signal ${signal}` : `code ${code}`;

    if (this.phase === 'stopping') {
      this.relay.leave(member.id, 'shutdown');
      // A worker still starting may be ended by the signal itself; one that served and then failed its drain is an error.
      if (member.ready && code !== 0 && signal !== 'SIGTERM') {
        this.exitCode = 1;
        this.logger.error(`${name} did not stop cleanly (${how})`);
      } else {
        this.logger.log(`${name} stopped`);
      }
      this.settleWhenAllGone();
      return;
    }
    this.relay.leave(member.id, 'crashed');
    if (this.phase === 'starting') {
      // As one process does when it cannot start: the service stops rather than retry forever.
      this.logger.error(`${name} exited during start-up (${how}): stopping`);
      this.exitCode = 1;
      this.stop();
      return;
    }
    const delay = this.backoff.delayAfterDeath(member.slot, Date.now() - member.forkedAt);
    this.restarts++;
    const message = `${name} exited unexpectedly (${how}); ${delay > 0 ? `replacing it in ${delay} ms` : 'replacing it'}`;
    if (code === 0) this.logger.warn(message);
    else this.logger.error(message);
    const timer = setTimeout(() => {
      this.replacements.delete(member.slot);
      this.fork(member.slot);
    }, delay);
    this.replacements.set(member.slot, timer);
  }

  private settleWhenAllGone(): void {
    if (this.phase === 'stopping' && this.members.size === 0) this.settle(this.exitCode);
  }
}
