import cluster from 'node:cluster';
import { runPrimary } from './cluster/primary';
import { runWorker } from './cluster/worker';
import { serviceConfig } from './config/config.module';
import { ConfigValidationError } from './config/config-validation-error';
import { ProcessRole } from './config/process-role';
import { writeStartUpBanner } from './observability/start-up-banner';
import { startService } from './start-service';

/** One process (WORKERS unset), or a cluster: a primary that supervises WORKERS workers, each running the service. */
async function main(): Promise<void> {
  const config = serviceConfig();
  const { workerSlot } = ProcessRole.of(config);
  if (workerSlot !== null) return runWorker(workerSlot);
  if (config.cluster.workers !== undefined && cluster.isPrimary) return runPrimary(config);
  const { port } = await startService();
  writeStartUpBanner(config, port);
}

main().catch((error: unknown) => {
  // One readable message for a configuration error, a stack for anything else.
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(1);
});
