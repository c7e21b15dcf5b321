import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Locator, Page } from 'playwright-core';
import request from 'supertest';
import { MillisPlatformClient } from '../../support/millis-platform-client';
import { eventually, startTestApp, TestApp } from '../../support/test-app';
import { launchChromium } from './browser';
import { ensureWebBuilt } from './web-build';

const API_KEY = 'dashboard-test-key-0123456789';
const GREETING = 'Hello, this is Acme. How can I help?';
const ARTIFACTS = join(__dirname, '..', '..', 'artifacts', 'dashboard');
/** UPDATE_SCREENSHOTS=1 also refreshes the README's screenshots (docs/screenshots) from this run. */
const DOCS_SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'screenshots') : undefined;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
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
  const shot = async (name: string, docName?: string) => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
    if (docName && DOCS_SCREENSHOTS)
      copyFileSync(join(ARTIFACTS, `${name}.png`), join(DOCS_SCREENSHOTS, `${docName}.png`));
  };
  const pageWidth = () => page.evaluate<number>('document.documentElement.scrollWidth');

  beforeAll(async () => {
    ensureWebBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestApp({ env: { API_KEY, GREETING, AGENT_TOOLS: 'check_availability' } });
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await makeScriptedCalls(t);
    // What a post-call analysis stores (the analysis itself is tested in test/integration/call-analysis).
    await t.db.query(
      `INSERT INTO call_analyses (call_session_id, request_id, status, summary, outcome, sentiment, custom_fields,
         model, prompt_tokens, completion_tokens, attempts, started_at, completed_at)
       SELECT id, gen_random_uuid(), 'completed', 'The caller asked for the opening hours.', 'follow_up', 'positive',
              '{"appointment_booked": false}', 'fake-model', 420, 48, 1, now(), now()
       FROM call_sessions WHERE session_id = 'desk-call-1'`,
    );
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
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
    await request(server)
      .get('/calls/desk-call-1')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    await request(server)
      .get('/overview')
      .expect(200)
      .expect('Content-Type', /text\/html/);
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
    await shot('sign-in', 'call-desk-sign-in');

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
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-session-id')))).toEqual([
      'desk-call-2',
      'desk-call-1',
    ]);

    const first = await rows.nth(1).innerText();
    expect(first).toContain('+1 555 0100');
    expect(first).toContain('+1 555 0199');
    expect(first).toContain('support');
    expect(first).toContain('What are your opening hours');
    expect(first).toContain('Hung up');
    expect(await rows.nth(1).locator('td.col-4').innerText()).toBe('2');
    expect(await rows.nth(1).locator('td.col-3').innerText()).toMatch(/^\d+ s$/);
    // The analysed call carries its outcome, the caller's sentiment in its title; the other none.
    const outcome = rows.nth(1).locator('td.col-0 .badge', { hasText: 'follow up' });
    expect(await outcome.getAttribute('title')).toBe('Outcome the analysis found; the caller was positive');
    expect(await rows.nth(0).locator('td.col-0 .badge').count()).toBe(0);
    await shot('calls');
  });

  it('filters by phone number, and the filter is in the URL to share', async () => {
    await page.getByLabel('Phone').fill('+1 555 0222');
    await page.getByLabel('Phone').press('Enter');
    await page.waitForURL(/phone=%2B1\+555\+0222|phone=\+1\+555\+0222/);
    const rows = page.locator('table.calls tbody tr');
    await eventually(async () => expect(await rows.count()).toBe(1));
    expect(await rows.first().getAttribute('data-session-id')).toBe('desk-call-2');
    expect(await page.locator('.list-status').innerText()).toBe('1 call, all shown.');

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

    const { body } = await request(t.app.getHttpServer())
      .get('/api/calls/desk-call-1')
      .set('x-api-key', API_KEY)
      .expect(200);
    expect(await agent.count()).toBe(body.exchanges.length);
    expect(await page.locator('.timeline .bubble-row.caller').count()).toBe(2);
    expect(await page.locator('.bubble-row.caller .text').allInnerTexts()).toEqual([
      'What are your opening hours',
      'Tell me a long story',
    ]);
    expect(await agent.nth(0).locator('.text').innerText()).toBe(GREETING);

    const timings = await agent
      .locator('.timing')
      .evaluateAll((bars) => bars.map((bar) => bar.getAttribute('aria-label')));
    expect(timings).toHaveLength(3);
    body.exchanges.forEach((exchange: { time_to_first_token_ms: number; total_ms: number }, i: number) => {
      expect(timings[i]).toMatch(/^Time to first token \d+ ms, total [\d.]+ m?s$/);
      expect(timings[i]).toContain(`first token ${Math.round(exchange.time_to_first_token_ms)} ms`);
    });

    const interrupted = agent.nth(2);
    expect(await interrupted.innerText()).toContain('Interrupted by the caller');
    expect(await interrupted.locator('.bubble.cut').count()).toBe(1);
    expect(await interrupted.locator('.text').innerText()).toContain(
      body.exchanges[2].response_text.trim().slice(0, 20),
    );

    const side = page.getByRole('complementary', { name: 'Call details' });
    expect(await side.innerText()).toContain('Partial transcript');
    const toolCall = side.locator('.event-tool_call');
    expect(await toolCall.count()).toBe(1);
    expect(await toolCall.innerText()).toMatch(/Tool call · stream 1 check_availability · \d+ ms/);
    expect(await side.innerText()).toContain('Ada');
    const analysis = side.locator('details.analysis');
    expect(await analysis.innerText()).toContain('The caller asked for the opening hours.');
    expect(await analysis.innerText()).toMatch(/Outcome\s+follow_up/);
    expect(await analysis.innerText()).toMatch(/appointment_booked\s+false/);
    expect(await analysis.innerText()).toContain('420 in, 48 out');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download transcript' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('transcript-desk-call-1.txt');
    await shot('call', 'call-desk-call');
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
    const agents = (await page.locator('.agents .agent-table tbody th').allInnerTexts()).sort();
    expect(agents).toEqual(['sales', 'support']);
    expect(await linesPerCell(page.locator('.agents .agent-table tbody td:not(.bar-cell)'))).toEqual(Array(6).fill(1));
    const outcomes = page.locator('section.outcomes');
    expect(await outcomes.locator('tbody th').allInnerTexts()).toEqual(['follow up']);
    expect(await outcomes.innerText()).toContain('100.0 %');
    await shot('overview', 'call-desk-overview');
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
    await eventually(async () =>
      expect(await card.locator('.bubble-row.agent .text').first().innerText()).toBe(GREETING),
    );

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
    await eventually(async () =>
      expect(await card.locator('.timing-text').last().innerText()).toMatch(/first token \d+ ms/),
    );

    await call.close();
    await page.locator('#live-ended article[data-session-id="desk-live-1"]').getByText('Hung up').waitFor();
  });

  it('keeps the words being spoken in view, also after a reload and on a phone, until the reader scrolls up', async () => {
    const longReply = Array.from({ length: 8 }, () => LIVE_REPLY).join(' ');
    t.fakeLlm.enqueue({ kind: 'text', text: longReply, firstTokenDelayMs: 50, tokenDelayMs: 25 });
    // A web call: Millis sends no numbers.
    const call = await MillisPlatformClient.connect(t.wsUrl);
    call.startCall({ session_id: 'desk-web-1', agent_id: 'sales' });
    const card = page.locator('#live-active article[data-session-id="desk-web-1"]');
    await card.waitFor();
    expect(await card.locator('h2').innerText()).toBe('Web call');
    await call.waitForEnd(0);

    call.streamRequest(1, [
      { role: 'assistant', content: GREETING },
      { role: 'user', content: 'Tell me about every plan' },
    ]);
    const timeline = card.locator('.timeline');
    const reply = (streamId: number) => card.locator(`.bubble-row.agent[data-stream-id="${streamId}"] .text`);
    const scroll = () =>
      timeline.evaluate((list) => ({ top: list.scrollTop, hidden: list.scrollHeight - list.clientHeight }));
    const atTheEnd = async () => {
      const { top, hidden } = await scroll();
      expect(hidden - top).toBeLessThan(4);
    };
    const grows = async (streamId: number) => {
      const length = (await reply(streamId).innerText()).length;
      await eventually(async () => expect((await reply(streamId).innerText()).length).toBeGreaterThan(length + 40));
    };
    // Taller than the card's timeline, so it scrolls, and the end of the reply is what shows.
    await eventually(async () => expect((await scroll()).hidden).toBeGreaterThan(100), 10_000);
    await grows(1);
    await eventually(atTheEnd);
    await shot('live-following', 'call-desk-live');

    // Opened mid-reply: the card is built from the snapshot before it is on the page.
    await page.reload();
    await card.locator('.bubble-row.agent[data-stream-id="1"]').waitFor();
    await grows(1);
    await eventually(atTheEnd);

    await page.setViewportSize(PHONE);
    try {
      await grows(1);
      await eventually(atTheEnd);
      expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
      await shot('live-phone', 'call-desk-live-phone');

      // The reader scrolls back to read the start: the card stays there while the reply goes on.
      const resume = card.getByRole('button', { name: 'Back to the latest words' });
      expect(await resume.isVisible()).toBe(false);
      await timeline.evaluate((list) => (list.scrollTop = 0));
      await grows(1);
      expect((await scroll()).top).toBe(0);
      await resume.waitFor();
      await resume.click();
      await eventually(atTheEnd);
      expect(await resume.isVisible()).toBe(false);
    } finally {
      await page.setViewportSize(DESKTOP);
    }

    // The next turn (a caller bubble and a reply, taller than a step of the old follow rule) is followed too.
    const first = await call.waitForEnd(1, 20_000);
    t.fakeLlm.enqueue({ kind: 'text', text: LIVE_REPLY, firstTokenDelayMs: 50, tokenDelayMs: 25 });
    call.streamRequest(2, [
      { role: 'assistant', content: GREETING },
      { role: 'user', content: 'Tell me about every plan' },
      { role: 'assistant', content: first },
      { role: 'user', content: 'And which one would you pick for a small shop with two people answering the phone' },
    ]);
    await eventually(async () => expect((await reply(2).innerText()).length).toBeGreaterThan(20));
    await eventually(atTheEnd);
    await call.waitForEnd(2, 20_000);
    await call.close();
    await page.locator('#live-ended article[data-session-id="desk-web-1"]').waitFor();
  });

  it('lists calls on a phone without sideways scrolling, web calls named as such', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Calls' }).click();
    const rows = page.locator('table.calls tbody tr');
    await eventually(async () => expect(await rows.count()).toBe(4));
    const webCall = rows.and(page.locator('[data-session-id="desk-web-1"]'));
    expect(await webCall.locator('td.col-1').innerText()).toBe('Web call');
    expect(await page.locator('table.calls').innerText()).not.toContain('unknown');
    await shot('calls-with-web-call', 'call-desk-calls');

    await page.setViewportSize(PHONE);
    try {
      expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
      const wrap = page.locator('.table-wrap');
      expect(await wrap.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
      // Every row still says when, who and what was said, inside the screen.
      for (const cell of ['td.col-0', 'td.col-1', 'td.col-6']) {
        const boxes = await rows.locator(cell).evaluateAll((tds) => tds.map((td) => td.getBoundingClientRect()));
        expect(boxes).toHaveLength(4);
        for (const box of boxes) {
          expect(box.width).toBeGreaterThan(0);
          expect(box.right).toBeLessThanOrEqual(PHONE.width);
        }
      }
      // Laid out as cards, the rows are still rows and cells to a screen reader.
      expect(await page.getByRole('row').count()).toBe(4);
      expect(await page.getByRole('cell').count()).toBeGreaterThanOrEqual(12);
      await shot('calls-phone', 'call-desk-calls-phone');

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
      await page.locator('.agent-table tbody tr').first().waitFor();
      expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
      expect(await linesPerCell(page.locator('.agents .agent-table tbody td:not(.bar-cell)'))).toEqual(
        Array(6).fill(1),
      );
      await shot('overview-phone');
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });
});

describe('Call desk sign-in on a service without an API key', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startTestApp({ keepData: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('says that no key is configured instead of refusing every key', async () => {
    const server = t.app.getHttpServer();
    expect((await request(server).get('/auth/status').expect(200)).body).toEqual({ api_key_configured: false });
    const doc = (await request(server).get('/api/docs-json').expect(200)).body;
    expect(doc.paths['/auth/status'].get.security).toEqual([]);

    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.getByRole('alert').filter({ hasText: 'This service has no API key configured' }).waitFor();
    expect(await page.getByLabel('API key').isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Sign in' }).isDisabled()).toBe(true);
  });
});

/** How many lines each cell's text takes. */
function linesPerCell(cells: Locator): Promise<number[]> {
  return cells.evaluateAll((tds) =>
    tds.map((td) => {
      const range = td.ownerDocument.createRange();
      range.selectNodeContents(td);
      return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.bottom))).size;
    }),
  );
}

async function makeScriptedCalls(t: TestApp): Promise<void> {
  const first = await MillisPlatformClient.connect(t.wsUrl);
  first.startCall({
    session_id: 'desk-call-1',
    agent_id: 'support',
    metadata: { customer: 'Ada' },
    voip: { from: '+15550100', to: '+15550199' },
  });
  await first.waitForEnd(0);
  first.send({
    type: 'partial_transcript',
    data: { session_id: 'desk-call-1', transcript: 'What are', is_final: false },
  });
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
  first.streamRequest(2, [
    ...turn1,
    { role: 'assistant', content: answer1 },
    { role: 'user', content: 'Tell me a long story' },
  ]);
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
    const { rows: exchanges } = await t.db.query(
      `SELECT count(*)::int AS n FROM stream_exchanges WHERE status <> 'streaming'`,
    );
    expect(exchanges[0].n).toBe(5);
  });
}
