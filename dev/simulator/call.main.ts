import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { describeError } from '../../src/common/describe-error';
import { CallSimulator, ReplyResult } from './call-simulator';
import { applyCallFlags, CallFlags, loadCallScript, runCallScript, ScriptedTurn } from './call-script';
import { TerminalView } from './terminal-view';

/**
 * `npm run call`: talk to a running service as the Millis platform would.
 * Each line typed is a user turn; /interrupt, /partial <text>, /hangup, /help.
 * `--script file.yaml` runs a scripted call instead (`--json` prints its outcome).
 */
export const USAGE = `Usage: npm run call -- [options]

Options:
  --url URL             the service's WebSocket (default ws://127.0.0.1:8080/llm-websocket)
  --token TOKEN         WS_AUTH_TOKEN of the service (default: the WS_AUTH_TOKEN environment variable)
  --agent AGENT_ID      start_call agent_id (default simulator)
  --session SESSION_ID  start_call session_id (default: random)
  --metadata JSON       start_call metadata, e.g. '{"customer":"Ada"}'
  --from NUMBER         voip.from, e.g. +15550100 (omit --from and --to for a web call)
  --to NUMBER           voip.to, e.g. +15550199
  --script FILE         run the scripted call in FILE (YAML) and exit
  --json                with --script: print the outcome as JSON instead of the conversation
  --endpointing-ms N    send each line as a final partial transcript first, and its stream_request N ms
                        later, as the platform's endpointing does (default 0: the stream_request at once)
  --mismatch-rate R     with --endpointing-ms: share (0 to 1) of lines whose final partial lacks the last word
  -h, --help            print this help and exit

With --script, the flags given here win over the script's agent_id, session_id, metadata
and voip (a flag replaces that one field; --from alone keeps the script's voip.to).

Commands during a call: /interrupt, /partial <text>, /hangup, /help`;

const FLAGS = {
  url: { type: 'string' },
  token: { type: 'string' },
  agent: { type: 'string' },
  session: { type: 'string' },
  metadata: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  script: { type: 'string' },
  json: { type: 'boolean' },
  'endpointing-ms': { type: 'string' },
  'mismatch-rate': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_URL = 'ws://127.0.0.1:8080/llm-websocket';

export class UsageError extends Error {}

export interface CallCommand {
  url: string;
  token?: string;
  flags: CallFlags;
  script?: string;
  json: boolean;
  /** Typed lines: the final partial, then the stream_request this much later (0: at once, no partial). */
  endpointingMs: number;
  mismatchRate: number;
}

/** The command line, or null when help was asked for. */
export function parseCallArgs(argv: string[], envToken: string | undefined): CallCommand | null {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (error) {
    throw new UsageError(describeError(error));
  }
  if (values.help) return null;
  if (values.json && !values.script) throw new UsageError('--json only applies to --script');
  const endpointingMs = Number(values['endpointing-ms'] ?? '0');
  if (!Number.isInteger(endpointingMs) || endpointingMs < 0 || endpointingMs > 10_000)
    throw new UsageError('--endpointing-ms must be a whole number of ms from 0 to 10000');
  const mismatchRate = Number(values['mismatch-rate'] ?? '0');
  if (!(mismatchRate >= 0 && mismatchRate <= 1)) throw new UsageError('--mismatch-rate must be a number from 0 to 1');
  if (values['mismatch-rate'] !== undefined && endpointingMs === 0)
    throw new UsageError('--mismatch-rate only applies with --endpointing-ms');
  return {
    url: values.url ?? DEFAULT_URL,
    token: values.token ?? envToken,
    flags: {
      agentId: values.agent,
      sessionId: values.session,
      metadata: values.metadata === undefined ? undefined : parseMetadata(values.metadata),
      from: values.from,
      to: values.to,
    },
    script: values.script,
    json: values.json ?? false,
    endpointingMs,
    mismatchRate,
  };
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, strict: true, allowPositionals: false, options: FLAGS });
}

function parseMetadata(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--metadata is not JSON: ${describeError(error)}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError('--metadata must be a JSON object');
  return value as Record<string, unknown>;
}

function timing(reply: Pick<ReplyResult, 'firstPieceMs' | 'totalMs' | 'interrupted'>): string {
  const first = reply.firstPieceMs === null ? 'no reply' : `first words ${reply.firstPieceMs.toFixed(0)} ms`;
  return `  (${first}, total ${reply.totalMs.toFixed(0)} ms${reply.interrupted ? ', interrupted' : ''})`;
}

async function runScript(command: CallCommand & { script: string }): Promise<void> {
  const script = applyCallFlags(loadCallScript(command.script), command.flags);
  const print = (turn: ScriptedTurn) => {
    if (command.json) return;
    const who = turn.speaker === 'agent' ? 'agent ' : 'caller';
    const extra =
      turn.totalMs === undefined
        ? ''
        : timing({
            firstPieceMs: turn.firstPieceMs ?? null,
            totalMs: turn.totalMs,
            interrupted: turn.interrupted ?? false,
          });
    console.log(`${who}> ${turn.text}${extra}`);
  };
  const outcome = await runCallScript(script, { url: command.url, token: command.token }, print);
  if (command.json) console.log(JSON.stringify(outcome, null, 2));
  else console.log(`session ${outcome.sessionId} ended`);
}

async function talk(command: CallCommand): Promise<void> {
  const { flags } = command;
  const call = new CallSimulator({
    url: command.url,
    token: command.token,
    agentId: flags.agentId ?? 'simulator',
    sessionId: flags.sessionId,
    metadata: flags.metadata ?? null,
    from: flags.from,
    to: flags.to,
  });
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ', terminal: interactive });
  // Taken now: lines read before the loop starts (piped input) would otherwise be lost.
  const lines = rl[Symbol.asyncIterator]();
  const view = new TerminalView(process.stdout, interactive ? rl : null);
  call.on('piece', (_streamId, content) => view.piece(content));
  call.on('reply', (reply) => {
    view.endReply();
    view.line(timing(reply));
  });
  call.on('control', (frame) => view.line(`[${frame.type}] ${JSON.stringify(frame.data)}`));
  rl.on('close', () => view.detach());
  call.on('closed', (code) => {
    rl.close();
    view.line(`call closed (${code})`);
  });

  await call.connect();
  view.line(`connected to ${command.url} as session ${call.sessionId}; type to talk, /help for commands`);
  // Piped input is a script of lines: let each reply finish before the next line.
  const greeting = call.start();
  if (!interactive) await greeting;
  for await (const line of lines) {
    const text = line.trim();
    if (!interactive && text) view.line(`you> ${text}`);
    if (text === '/hangup') break;
    if (text === '/help') view.line(USAGE);
    else if (text === '/interrupt') call.interrupt();
    else if (text.startsWith('/partial ')) call.partial(text.slice('/partial '.length));
    else if (text && call.isOpen) {
      const reply = command.endpointingMs > 0 ? sayEndpointed(call, text, command) : call.say(text);
      if (!interactive) await reply;
    }
    if (interactive) rl.prompt();
  }
  await call.hangup();
}

/** The final partial (on a mismatch, without the line's last word), then the stream_request after the delay. */
function sayEndpointed(call: CallSimulator, text: string, command: CallCommand): Promise<ReplyResult> {
  const words = text.split(/\s+/);
  const partial =
    Math.random() < command.mismatchRate ? (words.length > 1 ? words.slice(0, -1).join(' ') : `${text} um`) : text;
  return call.sayEndpointed(text, command.endpointingMs, partial);
}

async function main(argv: string[]): Promise<void> {
  // The token may come from the environment so that it stays out of the process list.
  const command = parseCallArgs(argv, process.env.WS_AUTH_TOKEN);
  if (!command) {
    console.log(USAGE);
    return;
  }
  if (command.script) await runScript({ ...command, script: command.script });
  else await talk(command);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      const usage = error instanceof UsageError;
      console.error(error instanceof Error ? error.message : error);
      if (usage) console.error('Run with --help for the options.');
      process.exit(usage ? 2 : 1);
    },
  );
}
