import { DynamicModule, Module } from '@nestjs/common';
import { AppModule } from '../app.module';
import { CallActivityModule } from '../call-activity/call-activity.module';
import { ObservabilityModule } from '../observability/observability.module';
import { ClusterWorker } from './cluster-worker';
import { WorkerActivityBridge, WorkerMetricsResponder } from './worker-bridges';

/**
 * The application as a cluster worker runs it: the whole AppModule, plus this worker's link to
 * the primary, which plugs into the activity feed and the metrics scrape. Lower code that
 * behaves differently in a worker reads ProcessRole, never this link.
 */
@Module({})
export class ClusterWorkerModule {
  static forWorker(worker: ClusterWorker): DynamicModule {
    return {
      module: ClusterWorkerModule,
      imports: [AppModule, CallActivityModule, ObservabilityModule],
      providers: [{ provide: ClusterWorker, useValue: worker }, WorkerActivityBridge, WorkerMetricsResponder],
    };
  }
}
