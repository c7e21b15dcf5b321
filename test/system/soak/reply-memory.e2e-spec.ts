import WebSocket from 'ws';
import { findInspectorUrl, heapAfterGc, INSPECT_FLAG } from '../../../bench/heap-inspector';
import type { FakeScenario, RecordedRequest } from '../../../dev/fake-llm/fake-llm-server';
import { webSocketText } from '../../../src/common/web-socket-text';
import { useProcessSuite } from '../support/process-suite';
import { inBatches, ServiceProcess, spawnService } from '../support/service-process';
import { eventually } from '../../support/eventually';

/** Concurrent calls per round, turns per call: 60 x 100 = 6,000 replies a round. */
const CALLS = 60;
const TURNS = 100;
const ROUNDS = 3;
const WARM_UP_TURNS = 30;
/** What 18,000 replies may leave behind once their calls have ended (the leak this guards against kept ~2 KB each). */
const MAX_GROWTH_MB = 5;
const TOOL_MARK = '[soak:tool]';

/**
 * How each turn of a call goes, in a cycle: plain replies, a tool round, an interrupted and a
 * superseded reply (neither waited for), a provider error, a cut stream and a silent provider
 * (first-token timeout). Every path a reply can end by, so each has its chance to leak.
 */
const TURN_CYCLE = [
  'text',
  'tool',
  'text',
  'interrupt',
  'text',
  'error',
  'text',
  'supersede',
  'text',
  'cut',
  'text',
  'hang',
  'text',
] as const;
type TurnKind = (typeof TURN_CYCLE)[number];
const UTTERANCE: Record<TurnKind, string> = {
  text: 'what are your opening hours',
  tool: `is monday free ${TOOL_MARK}`,
  interrupt: 'tell me a long story',
  supersede: 'wait, one more thing',
  error: 'hello [fake:error 503]',
  cut: 'hello [fake:cut 2]',
  hang: 'hello [fake:hang]',
};

/** Tool calls for the marked question only, so the round after the tool result gets text. */
function toolResponder(request: RecordedRequest): FakeScenario | undefined {
  const last = request.body.messages?.at(-1);
  if (last?.role !== 'user' || typeof last.content !== 'string' || !last.content.includes(TOOL_MARK)) return undefined;
  return { kind: 'tool_calls', calls: [{ name: 'check_availability', arguments: { date: '2030-01-07' } }] };
}

describe('Memory after many replies on calls that have ended (soak)', () => {
  const suite = useProcessSuite({ firstTokenDelayMs: 0, tokenDelayMs: 0 });

  it(`retains less than ${MAX_GROWTH_MB} MB after ${ROUNDS * CALLS * TURNS} replies`, async () => {
    const service = (suite.service = await spawnService(
      {
        OPENAI_BASE_URL: suite.fake.baseUrl,
        GREETING: 'Hello.',
        LOG_LEVEL: 'error',
        AGENT_TOOLS: 'check_availability',
        TOOL_FILLER_AFTER_MS: '60000',
        LLM_TIMEOUT_MS: '100',
        WS_MAX_FRAMES_PER_SECOND: '1000000',
        WS_FRAME_BURST: '1000000',
      },
      { nodeArgs: [INSPECT_FLAG] },
    ));
    const inspector = await eventually(() => findInspectorUrl(service.output()) ?? missing('the DevTools address'));
    let replies = 0;
    const round = async (name: string, turns: number) => {
      // The fake keeps every request it saw: start each round empty so this process stays small.
      suite.fake.reset();
      suite.fake.setResponder(toolResponder);
      await inBatches(CALLS, CALLS, (i) => soakCall(service, `soak-${name}-${i}`, turns, i));
      replies += CALLS * turns;
      await drained(service);
      return heapAfterGc(inspector);
    };

    const baseline = await round('warm-up', WARM_UP_TURNS);
    const heaps: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) heaps.push(await round(`r${r}`, TURNS));

    const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
    console.log(
      `soak: ${replies} replies; heap after GC ${mb(baseline)} MB after the warm-up, then ${heaps.map(mb).join(', ')} MB`,
    );
    // Nothing lost on the way: every reply (and each call's greeting) is in Postgres.
    const { rows } = await suite.db.query(`SELECT count(*)::int AS n FROM stream_exchanges`);
    expect(rows[0].n).toBe(replies + CALLS * (ROUNDS + 1));
    expect((heaps.at(-1)! - baseline) / 1048576).toBeLessThan(MAX_GROWTH_MB);
  }, 240_000);
});

/** Until every call is closed and the audit has written everything (nothing in flight to count). */
async function drained(service: ServiceProcess): Promise<void> {
  await eventually(
    async () => {
      const live = (await (await fetch(`${service.httpUrl}/health/live`)).json()) as {
        activeCalls: number;
        audit: { backlog: number };
      };
      expect({ activeCalls: live.activeCalls, backlog: live.audit.backlog }).toEqual({ activeCalls: 0, backlog: 0 });
    },
    20_000,
    50,
  );
}

/** One call: greeting, `turns` stream_requests along TURN_CYCLE, then the platform hangs up. */
async function soakCall(service: ServiceProcess, sessionId: string, turns: number, offset: number): Promise<void> {
  const socket = new WebSocket(service.wsUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let waiting: { streamId: number; resolve: () => void; reject: (error: Error) => void } | undefined;
  socket.on('message', (raw) => {
    const frame = JSON.parse(webSocketText(raw)) as {
      type: string;
      data?: { stream_id: number; end_of_stream?: boolean };
    };
    if (frame.type === 'stream_response' && frame.data?.end_of_stream && frame.data.stream_id === waiting?.streamId)
      waiting.resolve();
  });
  socket.once('close', (code) =>
    waiting?.reject(new Error(`${sessionId}: socket closed (${code}) waiting for stream ${waiting.streamId}`)),
  );
  const send = (frame: object) => socket.send(JSON.stringify(frame));
  const endOf = (streamId: number) => new Promise<void>((resolve, reject) => (waiting = { streamId, resolve, reject }));

  const greeting = endOf(0);
  send({ type: 'start_call', data: { stream_id: 0, session_id: sessionId, agent_id: 'soak-agent' } });
  await greeting;
  for (let streamId = 1; streamId <= turns; streamId++) {
    // The last turn is always waited for, so the call ends with nothing in flight on our side.
    const kind = streamId === turns ? 'text' : TURN_CYCLE[(streamId + offset) % TURN_CYCLE.length];
    const transcript = [{ role: 'user', content: `${UTTERANCE[kind]} (${sessionId} turn ${streamId})` }];
    const end = kind === 'interrupt' || kind === 'supersede' ? undefined : endOf(streamId);
    send({ type: 'stream_request', data: { stream_id: streamId, transcript } });
    if (kind === 'interrupt') send({ type: 'interrupt', stream_id: streamId });
    await end;
  }
  waiting = undefined;
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.close(1000);
  await closed;
}

function missing(what: string): never {
  throw new Error(`no ${what} yet`);
}
