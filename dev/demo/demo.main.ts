import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { FakeLlmServer } from '../fake-llm/fake-llm-server';
import { loadCallScript, runCallScript } from '../simulator/call-script';
import { demoResponder } from './demo-replies';

/**
 * `npm run demo`: the whole product in one command. An embedded Postgres, the fake
 * LLM, the service, a scripted call through the simulator, and the call as the
 * history API returns it.
 */
const SCRIPT = resolve(__dirname, '../../examples/calls/demo.yaml');

async function main(): Promise<void> {
  const fakeLlm = new FakeLlmServer({ firstTokenDelayMs: 250, tokenDelayMs: 30 });
  fakeLlm.setResponder(demoResponder);
  const llmUrl = await fakeLlm.start();
  const apiKey = randomBytes(24).toString('hex');

  // The service reads its configuration when its modules load, so set it first.
  delete process.env.DATABASE_URL;
  Object.assign(process.env, {
    HOST: '127.0.0.1',
    PORT: '0',
    EMBEDDED_DB_DIR: process.env.DEMO_DB_DIR ?? './data/demo-pg',
    OPENAI_BASE_URL: llmUrl,
    OPENAI_API_KEY: 'demo',
    OPENAI_MODEL: 'fake-model',
    API_KEY: apiKey,
    GREETING: 'Hello {{customer}}, thanks for calling Acme. How can I help?',
    LOG_LEVEL: 'warn',
  });
  step('Starting the embedded database and the service');
  const app = await startService();
  const base = await app.getUrl();
  const wsUrl = `${base.replace(/^http/, 'ws')}/llm-websocket`;

  step(`Calling ${wsUrl} as the Millis platform would (script: examples/calls/demo.yaml)`);
  const outcome = await runCallScript(loadCallScript(SCRIPT), { url: wsUrl }, (turn) => {
    const timing =
      turn.firstPieceMs == null
        ? ''
        : `   [first words after ${turn.firstPieceMs.toFixed(0)} ms${turn.interrupted ? ', interrupted' : ''}]`;
    console.log(`  ${turn.speaker === 'agent' ? 'agent ' : 'caller'}: ${turn.text}${timing}`);
  });

  step(`The call as stored: GET /api/calls/${outcome.sessionId}`);
  const headers = { 'x-api-key': apiKey };
  const call = await waitForStoredCall(`${base}/api/calls/${outcome.sessionId}`, headers);
  console.log(JSON.stringify(summarise(call), null, 2));

  step(`The transcript as heard: GET /api/calls/${outcome.sessionId}/transcript (Accept: text/plain)`);
  const transcript = await fetch(`${base}/api/calls/${outcome.sessionId}/transcript`, {
    headers: { ...headers, accept: 'text/plain' },
  });
  console.log(await transcript.text());

  step('Done. Try it yourself: `npm start` then `npm run call`; the API is documented at /api/docs.');
  await app.close();
  await fakeLlm.stop();
}

async function startService(): Promise<INestApplication> {
  const { NestFactory } = await import('@nestjs/core');
  const { AppModule } = await import('../../src/app.module');
  const { configureApp } = await import('../../src/configure-app');
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  return app;
}

interface StoredCall {
  status: string;
  exchanges: unknown[];
  [key: string]: unknown;
}

/** The audit is written behind the call; wait until the whole call is there. */
async function waitForStoredCall(url: string, headers: Record<string, string>): Promise<StoredCall> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await fetch(url, { headers });
    if (response.ok) {
      const call = (await response.json()) as StoredCall;
      if (call.status === 'ended') return call;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the call did not appear at ${url}`);
}

/** The stored call, with long transcripts shortened so the output stays readable. */
function summarise(call: StoredCall): unknown {
  return {
    ...call,
    exchanges: (call.exchanges as Array<Record<string, unknown>>).map(({ transcript, ...exchange }) => ({
      ...exchange,
      transcript: `[${(transcript as unknown[]).length} entries]`,
    })),
  };
}

function step(message: string): void {
  console.log(`\n== ${message}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
