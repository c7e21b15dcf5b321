import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { MillisPlatformClient } from '../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../support/test-app';
import { launchChromium } from './browser';
import { ensureWebBuilt } from './web-build';

const API_KEY = 'dashboard-test-key-0123456789';
const GREETING = 'Hello, this is Acme. How can I help?';
const ARTIFACTS = join(__dirname, '..', 'artifacts', 'dashboard');
const LIVE_REPLY =
  'Our standard plan includes unlimited calls, a dedicated number and support every day of the week. ' +
  'The premium plan adds call recording, analytics and a personal account manager who knows your business.';

/**
 * The call desk in a real browser (Debian's chromium, headless) against the real service:
 * calls are made over the Millis WebSocket, then looked at through the page.
 */
describe('Call desk in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    ensureWebBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestApp({ env: { API_KEY, GREETING, AGENT_TOOLS: 'check_availability' } });
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await makeScriptedCalls(t);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the page to anyone and keeps the data behind the API key', async () => {
    const server = t.app.getHttpServer();
    const index = await request(server).get('/').expect(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.text).toContain('<div id="app">');
    await request(server).get('/calls/desk-call-1').expect(200).expect('Content-Type', /text\/html/);
    await request(server).get('/overview').expect(200).expect('Content-Type', /text\/html/);
    await request(server).get('/api/live').expect(401);
    const unknownApi = await request(server).get('/api/nothing-here').set('x-api-key', API_KEY).expect(404);
    expect(unknownApi.headers['content-type']).toMatch(/json/);
    await request(server).get('/no-such-page').expect(404);
    const docs = await request(server).get('/api/docs-json').expect(200);
    expect(docs.body.paths['/api/live']).toBeDefined();
  });

  it('signs in with the API key, kept out of the URL', async () => {
    await page.goto(`${baseUrl}/`);
    await page.getByRole('heading', { name: 'Call desk' }).waitFor();
    await shot('sign-in');

    await page.getByLabel('API key').fill('not-the-right-key-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused' }).waitFor();

    await page.getByLabel('API key').fill(API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();
    expect(page.url()).not.toContain(API_KEY);
    expect(await page.evaluate('sessionStorage.getItem("calldesk.apiKey")')).toBe(API_KEY);
  });

  it('lists the calls that were made, newest first, with numbers, duration, turns and first words', async () => {
    const rows = page.locator('table.calls tbody tr');
    await eventually(async () => expect(await rows.count()).toBe(2));
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-session-id')))).toEqual(['desk-call-2', 'desk-call-1']);

    const first = await rows.nth(1).innerText();
    expect(first).toContain('+1 555 0100');
    expect(first).toContain('+1 555 0199');
    expect(first).toContain('support');
    expect(first).toContain('What are your opening hours');
    expect(first).toContain('Hung up');
    expect(await rows.nth(1).locator('td.col-4').innerText()).toBe('2');
    expect(await rows.nth(1).locator('td.col-3').innerText()).toMatch(/^\d+ s$/);
    await shot('calls');
  });

  it('filters by phone number, and the filter is in the URL to share', async () => {
    await page.getByLabel('Phone').fill('+1 555 0222');
    await page.getByLabel('Phone').press('Enter');
    await page.waitForURL(/phone=%2B1\+555\+0222|phone=\+1\+555\+0222/);
    const rows = page.locator('table.calls tbody tr');
    await eventually(async () => expect(await rows.count()).toBe(1));
    expect(await rows.first().getAttribute('data-session-id')).toBe('desk-call-2');

    await page.goto(page.url());
    await eventually(async () => expect(await rows.count()).toBe(1));
    expect(await page.getByLabel('Phone').inputValue()).toBe('+1 555 0222');
    expect(await rows.first().getAttribute('data-session-id')).toBe('desk-call-2');

    await page.getByRole('link', { name: 'Clear' }).click();
    await eventually(async () => expect(await rows.count()).toBe(2));
  });

  it('opens a call: every turn as a bubble with its timing, cut-off replies marked, events and metadata aside', async () => {
    await page.locator('tr[data-session-id="desk-call-1"] a').click();
    await page.waitForURL(/\/calls\/desk-call-1$/);
    const agent = page.locator('.timeline .bubble-row.agent');
    await agent.first().waitFor();

    const { body } = await request(t.app.getHttpServer()).get('/api/calls/desk-call-1').set('x-api-key', API_KEY).expect(200);
    expect(await agent.count()).toBe(body.exchanges.length);
    expect(await page.locator('.timeline .bubble-row.caller').count()).toBe(2);
    expect(await page.locator('.bubble-row.caller .text').allInnerTexts()).toEqual(['What are your opening hours', 'Tell me a long story']);
    expect(await agent.nth(0).locator('.text').innerText()).toBe(GREETING);

    const timings = await agent.locator('.timing').evaluateAll((bars) => bars.map((bar) => bar.getAttribute('aria-label')));
    expect(timings).toHaveLength(3);
    body.exchanges.forEach((exchange: { time_to_first_token_ms: number; total_ms: number }, i: number) => {
      expect(timings[i]).toMatch(/^Time to first token \d+ ms, total [\d.]+ m?s$/);
      expect(timings[i]).toContain(`first token ${Math.round(exchange.time_to_first_token_ms)} ms`);
    });

    const interrupted = agent.nth(2);
    expect(await interrupted.innerText()).toContain('Interrupted by the caller');
    expect(await interrupted.locator('.bubble.cut').count()).toBe(1);
    expect(await interrupted.locator('.text').innerText()).toContain(body.exchanges[2].response_text.trim().slice(0, 20));

    const side = page.getByRole('complementary', { name: 'Call details' });
    expect(await side.innerText()).toContain('Partial transcript');
    const toolCall = side.locator('.event-tool_call');
    expect(await toolCall.count()).toBe(1);
    expect(await toolCall.innerText()).toMatch(/Tool call · stream 1 check_availability · \d+ ms/);
    expect(await side.innerText()).toContain('Ada');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download transcript' }).click()]);
    expect(download.suggestedFilename()).toBe('transcript-desk-call-1.txt');
    await shot('call');
  });

  it('fits a tablet screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    try {
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(768);
      await shot('call-tablet');
      await page.goBack();
      await page.locator('table.calls tbody tr').first().waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(768);
      await shot('calls-tablet');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('shows the overview with charts per day and per agent', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.locator('.chart canvas').nth(2).waitFor();
    expect(await page.locator('figure.chart').count()).toBe(3);
    expect(await page.locator('.stat-card').first().innerText()).toContain('2');
    const agents = (await page.locator('.agent-table tbody th').allInnerTexts()).sort();
    expect(agents).toEqual(['sales', 'support']);
    await shot('overview');
  });

  it('shows a call as it happens, with the reply streaming in', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Live' }).click();
    await page.locator('.connection-open').waitFor();

    t.fakeLlm.enqueue({ kind: 'text', text: LIVE_REPLY, firstTokenDelayMs: 100, tokenDelayMs: 60 });
    const call = await MillisPlatformClient.connect(t.wsUrl);
    call.startCall({ session_id: 'desk-live-1', agent_id: 'sales', voip: { from: '+15550333', to: '+15550199' } });
    const card = page.locator('#live-active article[data-session-id="desk-live-1"]');
    await card.waitFor();
    expect(await card.innerText()).toContain('+1 555 0333');
    await eventually(async () => expect(await card.locator('.bubble-row.agent .text').first().innerText()).toBe(GREETING));

    call.streamRequest(1, [
      { role: 'assistant', content: GREETING },
      { role: 'user', content: 'What plans do you have' },
    ]);
    const reply = card.locator('.bubble-row.agent[data-stream-id="1"] .text');
    await eventually(async () => expect((await reply.innerText()).length).toBeGreaterThan(60));
    const early = await reply.innerText();
    expect(call.responses(1).some((r) => r.end_of_stream)).toBe(false);
    await shot('live');
    await eventually(async () => expect((await reply.innerText()).length).toBeGreaterThan(early.length + 20));
    expect(LIVE_REPLY.startsWith((await reply.innerText()).trim())).toBe(true);

    const sent = await call.waitForEnd(1, 10_000);
    await eventually(async () => expect((await reply.innerText()).trim()).toBe(sent.trim()));
    await eventually(async () => expect(await card.locator('.timing-text').last().innerText()).toMatch(/first token \d+ ms/));

    await call.close();
    await page.locator('#live-ended article[data-session-id="desk-live-1"]').getByText('Hung up').waitFor();
  });
});

async function makeScriptedCalls(t: TestApp): Promise<void> {
  const first = await MillisPlatformClient.connect(t.wsUrl);
  first.startCall({ session_id: 'desk-call-1', agent_id: 'support', metadata: { customer: 'Ada' }, voip: { from: '+15550100', to: '+15550199' } });
  await first.waitForEnd(0);
  first.send({ type: 'partial_transcript', data: { session_id: 'desk-call-1', transcript: 'What are', is_final: false } });
  const turn1 = [
    { role: 'assistant' as const, content: GREETING },
    { role: 'user' as const, content: 'What are your opening hours' },
  ];
  // The model checks the calendar before answering: a tool call for the side panel.
  t.fakeLlm.enqueue(
    { kind: 'tool_calls', calls: [{ name: 'check_availability', arguments: { date: '2030-01-07' } }] },
    { kind: 'text', text: 'We are open from nine to six, Monday to Saturday.' },
  );
  first.streamRequest(1, turn1);
  const answer1 = await first.waitForEnd(1);
  first.send({ type: 'playback_finished', data: { session_id: 'desk-call-1', stream_id: 1 } });
  t.fakeLlm.enqueue({ kind: 'text', tokenCount: 200, tokenDelayMs: 20 });
  first.streamRequest(2, [...turn1, { role: 'assistant', content: answer1 }, { role: 'user', content: 'Tell me a long story' }]);
  await first.waitUntil(() => first.responses(2).length >= 3, 5000, 'first tokens of stream 2');
  first.interrupt(2);
  await t.fakeLlm.waitForAbort(2);
  await first.close();

  const second = await MillisPlatformClient.connect(t.wsUrl);
  second.startCall({ session_id: 'desk-call-2', agent_id: 'sales', voip: { from: '+15550222', to: '+15550199' } });
  await second.waitForEnd(0);
  t.fakeLlm.enqueue({ kind: 'text', text: 'Yes, we ship to Canada in three to five days.' });
  second.streamRequest(1, [
    { role: 'assistant', content: GREETING },
    { role: 'user', content: 'Do you ship to Canada' },
  ]);
  await second.waitForEnd(1);
  await second.close();

  await eventually(async () => {
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM call_sessions WHERE status = 'ended'`);
    expect(rows[0].n).toBe(2);
    const { rows: exchanges } = await t.db.query(`SELECT count(*)::int AS n FROM stream_exchanges WHERE status <> 'streaming'`);
    expect(exchanges[0].n).toBe(5);
  });
}
