import { DynamicModule, Module } from '@nestjs/common';
import { AppModule } from '../app.module';
import { CallsModule } from '../call-socket/calls.module';
import { ClusterWorker } from './cluster-worker';
import { WorkerActivityBridge, WorkerMetricsResponder } from './worker-bridges';

/**
 * The application as a cluster worker runs it: the whole AppModule, plus this worker's link to
 * the primary, global so any module can ask for it (as an optional dependency).
 */
@Module({})
export class ClusterWorkerModule {
  static forWorker(worker: ClusterWorker): DynamicModule {
    return {
      module: ClusterWorkerModule,
      global: true,
      imports: [AppModule, CallsModule],
      providers: [{ provide: ClusterWorker, useValue: worker }, WorkerActivityBridge, WorkerMetricsResponder],
      exports: [ClusterWorker],
    };
  }
}
