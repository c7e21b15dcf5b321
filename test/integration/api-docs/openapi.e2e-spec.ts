import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { buildOpenApiDocumentOffline } from '../../../dev/openapi/openapi-document.main';
import { startTestApp, TestApp } from '../../support/test-app';

const run = promisify(execFile);

describe('The OpenAPI document', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('built without a database is the one the running service serves', async () => {
    const { body: served } = await request(t.app.getHttpServer()).get('/api/docs-json').expect(200);
    expect(JSON.parse(JSON.stringify(await buildOpenApiDocumentOffline()))).toEqual(served);
    expect(served.servers).toEqual([{ url: '/', description: 'This service' }]);
    for (const path of ['/health/live', '/health/ready']) {
      expect(served.paths[path].get).toMatchObject({ summary: expect.any(String), security: [] });
    }
  });

  it('passes `npm run lint:openapi` (Redocly, recommended rules) with no error or warning', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'lint:openapi', '--', '--format', 'json'], {
      cwd: resolve(__dirname, '../../..'),
      timeout: 120_000,
    });
    const report = JSON.parse(stdout) as {
      totals: Record<string, number>;
      problems: Array<{ ruleId: string; message: string }>;
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    // The accepted exceptions, each with its reason in .redocly.lint-ignore.yaml.
    expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 4 });
  });
});
