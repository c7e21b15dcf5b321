import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { useProcessSuite } from '../support/process-suite';
import { spawnService, stopService } from '../support/service-process';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually } from '../../support/eventually';
import { launchChromium } from './browser';
import { ensureWebBuilt } from './web-build';

const GREETING = 'Hello, thanks for calling.';
/** Nothing configured, as after a fresh clone; only the database, the key file's place and the greeting (no LLM call) are set. */
const FIRST_RUN_ENV = {
  NODE_ENV: '',
  API_KEY: '',
  OPENAI_API_KEY: '',
  METRICS_TOKEN: '',
  LOG_LEVEL: 'log',
  // What a terminal gets (stdout here is a pipe, where auto means JSON).
  LOG_FORMAT: 'pretty',
  GREETING,
};

interface Banner {
  websocketUrl: string;
  dashboardUrl: string;
  key: string;
  keyNote: string;
  llm: string;
  /** Log lines printed before it. */
  linesBefore: string[];
}

function readBanner(output: string): Banner {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.trim() === 'Millis LLM service is ready');
  if (start < 0) throw new Error(`no banner yet in:\n${output}`);
  const row = (label: string) =>
    lines
      .slice(start + 1, start + 4)
      .find((line) => line.trimStart().startsWith(`${label} `))
      ?.trimStart()
      .slice(label.length)
      .trim() ?? '';
  const desk = /^(http\S+)\s+sign in with the key (\S+) \((.+)\)$/.exec(row('Call desk'));
  if (!desk) throw new Error(`no sign-in in the banner:\n${lines.slice(start, start + 4).join('\n')}`);
  return {
    websocketUrl: row('WebSocket'),
    dashboardUrl: desk[1],
    key: desk[2],
    keyNote: desk[3],
    llm: row('LLM'),
    linesBefore: lines.slice(0, start).filter((l) => l.trim()),
  };
}

/**
 * A newcomer's first run, following the README: the service started as a process with no
 * API_KEY outside production prints a banner with the key it made, and that key opens the
 * call desk in a real browser.
 */
describe('First run of the service', () => {
  const suite = useProcessSuite({ firstTokenDelayMs: 5, tokenDelayMs: 1 });
  const keyFile = join(mkdtempSync(join(tmpdir(), 'first-run-')), 'data', 'api-key');
  let browser: Browser;

  beforeAll(async () => {
    ensureWebBuilt();
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('prints where to connect and a key that signs in to the call desk, and keeps that key across restarts', async () => {
    suite.service = await spawnService({ ...FIRST_RUN_ENV, API_KEY_FILE: keyFile });
    const banner = await eventually(() => readBanner(suite.service!.output()));

    expect(banner.websocketUrl).toBe(suite.service.wsUrl);
    expect(banner.dashboardUrl).toBe(`${suite.service.httpUrl}/`);
    expect(banner.keyNote).toBe(`made now and kept in ${keyFile}`);
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(banner.key);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(banner.llm).toBe('none: callers hear the fallback message until OPENAI_API_KEY (or OPENAI_BASE_URL) is set');
    // A handful of warnings worth reading, not one line per module and route.
    expect(banner.linesBefore.length).toBeLessThanOrEqual(8);
    expect(banner.linesBefore.join('\n')).not.toMatch(/Mapped \{|dependencies initialized/);
    expect(banner.linesBefore.every((line) => !line.startsWith('{'))).toBe(true);

    const call = await MillisPlatformClient.connect(banner.websocketUrl);
    call.startCall({
      session_id: 'first-run-call',
      agent_id: 'front-desk',
      voip: { from: '+15550100', to: '+15550199' },
    });
    expect(await call.waitForEnd(0)).toBe(GREETING);
    await call.close();
    await eventually(async () => {
      const { rows } = await suite.db.query(`SELECT status FROM call_sessions WHERE session_id = 'first-run-call'`);
      expect(rows).toEqual([{ status: 'ended' }]);
    });

    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(banner.dashboardUrl);
    await page.getByLabel('API key').fill(banner.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();
    const row = page.locator('table.calls tbody tr[data-session-id="first-run-call"]');
    await row.waitFor();
    expect(await row.innerText()).toContain('+1 555 0100');

    // A restart reuses the key, so the open tab stays signed in.
    const { port } = suite.service;
    await stopService(suite.service);
    suite.service = await spawnService({ ...FIRST_RUN_ENV, API_KEY_FILE: keyFile }, { port });
    const again = await eventually(() => readBanner(suite.service!.output()));
    expect(again.key).toBe(banner.key);
    expect(again.keyNote).toBe(`kept in ${keyFile}`);
    await page.reload();
    await page.locator('table.calls tbody tr[data-session-id="first-run-call"]').waitFor();
    expect(await page.getByLabel('API key').count()).toBe(0);
    await page.close();
  });
});
