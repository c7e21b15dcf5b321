import { Pool } from 'pg';
import { FakeLlmOptions, FakeLlmServer } from '../../../dev/fake-llm/fake-llm-server';
import { testPool, truncateAuditTables } from '../../support/test-database';
import { ServiceProcess, stopService } from './service-process';

export interface ProcessSuite {
  readonly fake: FakeLlmServer;
  readonly db: Pool;
  /** Set it to the spawned service so the suite stops it at the end. */
  service?: ServiceProcess;
}

/**
 * The fixtures of a suite that runs the service as a real process: empty audit
 * tables, a fake LLM, and at the end the service stopped and everything closed.
 */
export function useProcessSuite(fakeOptions: Partial<FakeLlmOptions>): ProcessSuite {
  const suite = {} as { fake: FakeLlmServer; db: Pool; service?: ServiceProcess };
  beforeAll(async () => {
    suite.db = testPool();
    await truncateAuditTables(suite.db);
    suite.fake = new FakeLlmServer(fakeOptions);
    await suite.fake.start();
  });
  afterAll(async () => {
    await stopService(suite.service);
    await suite.fake?.stop();
    await suite.db?.end();
  });
  return suite;
}
