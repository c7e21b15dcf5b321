import { createInterface } from 'node:readline';
import { CallSimulator, ReplyResult } from './call-simulator';
import { loadCallScript, runCallScript, ScriptedTurn } from './call-script';

/**
 * `npm run call`: talk to a running service as the Millis platform would.
 * Each line typed is a user turn; /interrupt, /partial <text>, /hangup, /help.
 * `--script file.yaml` runs a scripted call instead (`--json` prints its outcome).
 */
const HELP = `Options:
  --url ws://host:port/llm-websocket   (default ws://127.0.0.1:8080/llm-websocket)
  --token TOKEN                         WS_AUTH_TOKEN of the service
  --agent AGENT_ID                      (default simulator)
  --metadata '{"customer":"Ada"}'       start_call metadata (JSON)
  --from +15550100 --to +15550199       phone numbers (omit both for a web call)
  --session SESSION_ID                  (default: random)
  --script call.yaml [--json]           run a scripted call and exit
Commands during a call: /interrupt, /partial <text>, /hangup, /help`;

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function timing(reply: Pick<ReplyResult, 'firstPieceMs' | 'totalMs' | 'interrupted'>): string {
  const first = reply.firstPieceMs === null ? 'no reply' : `first words ${reply.firstPieceMs.toFixed(0)} ms`;
  return `  (${first}, total ${reply.totalMs.toFixed(0)} ms${reply.interrupted ? ', interrupted' : ''})`;
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return;
  }
  const url = flag(argv, 'url') ?? process.env.CALL_URL ?? 'ws://127.0.0.1:8080/llm-websocket';
  const token = flag(argv, 'token') ?? process.env.WS_AUTH_TOKEN;
  const scriptFile = flag(argv, 'script');

  if (scriptFile) {
    const script = loadCallScript(scriptFile);
    const json = argv.includes('--json');
    const print = (turn: ScriptedTurn) => {
      if (json) return;
      const who = turn.speaker === 'agent' ? 'agent ' : 'caller';
      const extra =
        turn.totalMs === undefined
          ? ''
          : timing({ firstPieceMs: turn.firstPieceMs ?? null, totalMs: turn.totalMs, interrupted: turn.interrupted ?? false });
      console.log(`${who}> ${turn.text}${extra}`);
    };
    const outcome = await runCallScript(script, { url, token, agentId: flag(argv, 'agent') ?? script.agent_id ?? 'simulator' }, print);
    if (json) console.log(JSON.stringify(outcome, null, 2));
    else console.log(`session ${outcome.sessionId} ended`);
    return;
  }

  const metadata = flag(argv, 'metadata');
  const call = new CallSimulator({
    url,
    token,
    agentId: flag(argv, 'agent') ?? 'simulator',
    sessionId: flag(argv, 'session'),
    metadata: metadata ? (JSON.parse(metadata) as Record<string, unknown>) : null,
    from: flag(argv, 'from'),
    to: flag(argv, 'to'),
  });
  const out = process.stdout;
  let lineOpen = false;
  call.on('piece', (_streamId, content) => {
    if (!lineOpen) out.write('agent> ');
    lineOpen = true;
    out.write(content);
  });
  call.on('reply', (reply) => {
    if (lineOpen) out.write('\n');
    lineOpen = false;
    out.write(`${timing(reply)}\n`);
  });
  call.on('control', (frame) => out.write(`[${frame.type}] ${JSON.stringify(frame.data)}\n`));

  await call.connect();
  console.log(`connected to ${url} as session ${call.sessionId}; type to talk, /help for commands`);
  await call.start();

  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ' });
  call.on('closed', (code) => {
    console.log(`call closed (${code})`);
    rl.close();
  });
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/hangup') break;
    if (text === '/help') console.log(HELP);
    else if (text === '/interrupt') call.interrupt();
    else if (text.startsWith('/partial ')) call.partial(text.slice('/partial '.length));
    else if (text && call.isOpen) void call.say(text);
    rl.prompt();
  }
  await call.hangup();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
