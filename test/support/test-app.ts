import { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AppModule } from '../../src/app.module';
import { AuditWriter } from '../../src/audit/audit-writer.service';
import { AppConfig } from '../../src/config/app-config';
import { configureApp } from '../../src/configure-app';
import { FakeDialect, FakeLlmServer } from '../../dev/fake-llm/fake-llm-server';
import { TEST_DATABASE_URL, testPool, truncateAuditTables } from './test-database';

// Here too, so a suite that starts the app imports its helpers from one place.
export { eventually } from './eventually';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  wsUrl: string;
  fakeLlm: FakeLlmServer;
  audit: AuditWriter;
  db: Pool;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  fakeLlm?: FakeLlmServer;
  /** Keep rows from earlier suites (default: start from empty tables). */
  keepData?: boolean;
  /** Modules of the test's own next to AppModule (e.g. one that registers a job queue or a listener). */
  imports?: ModuleMetadata['imports'];
}

let fakeDialect: FakeDialect = 'openai';

/**
 * The dialect of the fake LLMs startTestApp makes from now on (a suite that brings its own
 * fake keeps it as it is). With `azure`, the service reaches the fake as an Azure OpenAI
 * provider (deployment path, api-version, api-key header) unless the suite sets OPENAI_BASE_URL.
 * test/integration/calls/dialects.e2e-spec.ts runs whole suites under each dialect.
 */
export function useFakeLlmDialect(dialect: FakeDialect): void {
  fakeDialect = dialect;
}

/**
 * The whole AppModule on a random port against real Postgres and the fake LLM
 * (the real `openai` client talks to it over HTTP). Only the configuration is overridden.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const fakeLlm = options.fakeLlm ?? new FakeLlmServer({ firstTokenDelayMs: 5, tokenDelayMs: 2, dialect: fakeDialect });
  const ownFake = !options.fakeLlm;
  if (ownFake) await fakeLlm.start();
  const asAzure = ownFake && fakeDialect === 'azure' && options.env?.OPENAI_BASE_URL === undefined;

  const db = testPool();
  if (!options.keepData) await truncateAuditTables(db);

  const config = AppConfig.from({
    DATABASE_URL: TEST_DATABASE_URL,
    OPENAI_BASE_URL: fakeLlm.baseUrl,
    OPENAI_API_KEY: 'test-key',
    OPENAI_MODEL: 'fake-model',
    ...(asAzure ? azureProvider(fakeLlm) : {}),
    AUDIT_FLUSH_INTERVAL_MS: '50',
    AUDIT_DEAD_LETTER_FILE: join(mkdtempSync(join(tmpdir(), 'audit-')), 'dead-letter.ndjson'),
    LOG_LEVEL: 'error',
    SHUTDOWN_GRACE_MS: '2000',
    ...options.env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule, ...(options.imports ?? [])] })
    .overrideProvider(AppConfig)
    .useValue(config)
    .compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;

  return {
    app,
    config,
    wsUrl: `ws://127.0.0.1:${port}/llm-websocket`,
    fakeLlm,
    audit: app.get(AuditWriter),
    db,
    async close() {
      await app.close();
      await db.end();
      if (ownFake) await fakeLlm.stop();
    },
  };
}

/** The fake as the one provider, reached the way Azure OpenAI is. */
function azureProvider(fakeLlm: FakeLlmServer): Record<string, string> {
  const provider = {
    name: 'azure',
    kind: 'azure',
    base_url: fakeLlm.baseUrl.replace(/\/v1$/, ''),
    api_key: 'test-key',
    deployment: 'fake-deployment',
    model: 'fake-model',
  };
  return { OPENAI_BASE_URL: '', OPENAI_API_KEY: '', LLM_PROVIDERS: JSON.stringify([provider]) };
}
