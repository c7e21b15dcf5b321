import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describeError } from '../../src/common/describe-error';
import { CallSimulator, ReplyResult, SimulatorOptions } from './call-simulator';

/**
 * A scripted call, as YAML:
 *
 *   agent_id: support
 *   metadata: { customer: Ada }
 *   voip: { from: "+15550100", to: "+15550199" }
 *   steps:
 *     - say: What are your opening hours?
 *     - partial: I would like
 *     - say: Tell me a long story
 *       interrupt_after_ms: 300
 *     - wait_ms: 500
 *     - hangup: true
 */
export interface CallScript {
  agent_id?: string;
  session_id?: string;
  metadata?: Record<string, unknown>;
  voip?: { from: string; to: string };
  steps: CallStep[];
}

export type CallStep =
  | { say: string; interrupt_after_ms?: number }
  | { partial: string; is_final?: boolean }
  | { wait_ms: number }
  | { hangup: true };

export interface ScriptedTurn {
  speaker: 'agent' | 'caller';
  text: string;
  firstPieceMs?: number | null;
  totalMs?: number;
  interrupted?: boolean;
}

export interface ScriptOutcome {
  sessionId: string;
  turns: ScriptedTurn[];
  controlFrames: unknown[];
}

export function loadCallScript(file: string): CallScript {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${describeError(error)}`, { cause: error });
  }
  try {
    return validateScript(raw);
  } catch (error) {
    throw new Error(`${file}: ${describeError(error)}`, { cause: error });
  }
}

export function validateScript(raw: unknown): CallScript {
  const script = raw as CallScript;
  if (!script || typeof script !== 'object' || !Array.isArray(script.steps)) {
    throw new Error('a call script needs a `steps` list');
  }
  for (const key of ['agent_id', 'session_id'] as const) {
    if (script[key] !== undefined && typeof script[key] !== 'string') throw new Error(`\`${key}\` must be a string`);
  }
  if (script.metadata != null && (typeof script.metadata !== 'object' || Array.isArray(script.metadata))) {
    throw new Error('`metadata` must be a mapping');
  }
  if (script.voip != null && (typeof script.voip.from !== 'string' || typeof script.voip.to !== 'string')) {
    throw new Error('`voip` needs `from` and `to` as strings (quote phone numbers)');
  }
  script.steps.forEach((step, i) => {
    const known = ['say', 'partial', 'wait_ms', 'hangup'].filter((key) => key in (step ?? {}));
    if (known.length !== 1) throw new Error(`step ${i + 1}: expected exactly one of say, partial, wait_ms, hangup`);
  });
  return script;
}

/** start_call fields given on the command line. */
export interface CallFlags {
  agentId?: string;
  sessionId?: string;
  metadata?: Record<string, unknown>;
  from?: string;
  to?: string;
}

/**
 * A flag given explicitly wins over the script's value for that field, the same rule
 * for every field; a flag not given leaves the script's value alone.
 */
export function applyCallFlags(script: CallScript, flags: CallFlags): CallScript {
  const from = flags.from ?? script.voip?.from;
  const to = flags.to ?? script.voip?.to;
  return {
    ...script,
    agent_id: flags.agentId ?? script.agent_id,
    session_id: flags.sessionId ?? script.session_id,
    metadata: flags.metadata ?? script.metadata,
    voip: from !== undefined || to !== undefined ? { from: from ?? '', to: to ?? '' } : script.voip,
  };
}

/** Runs a script against a live service; `onTurn` sees each line as it completes. */
export async function runCallScript(
  script: CallScript,
  connection: Pick<SimulatorOptions, 'url' | 'token'> & Partial<SimulatorOptions>,
  onTurn: (turn: ScriptedTurn) => void = () => undefined,
): Promise<ScriptOutcome> {
  const simulator = new CallSimulator({
    agentId: script.agent_id ?? 'simulator',
    sessionId: script.session_id,
    metadata: script.metadata ?? null,
    from: script.voip?.from,
    to: script.voip?.to,
    ...connection,
  });
  const outcome: ScriptOutcome = { sessionId: simulator.sessionId, turns: [], controlFrames: [] };
  const record = (turn: ScriptedTurn) => {
    outcome.turns.push(turn);
    onTurn(turn);
  };
  const agentSaid = (reply: ReplyResult) =>
    record({
      speaker: 'agent',
      text: reply.text,
      firstPieceMs: reply.firstPieceMs,
      totalMs: reply.totalMs,
      interrupted: reply.interrupted,
    });
  simulator.on('control', (frame) => outcome.controlFrames.push(frame));

  await simulator.connect();
  agentSaid(await simulator.start());
  for (const step of script.steps) {
    if (!simulator.isOpen) break;
    if ('say' in step) {
      record({ speaker: 'caller', text: step.say });
      const reply = simulator.say(step.say);
      if (step.interrupt_after_ms !== undefined) {
        const timer = setTimeout(() => simulator.interrupt(), step.interrupt_after_ms);
        agentSaid(await reply);
        clearTimeout(timer);
      } else {
        agentSaid(await reply);
      }
    } else if ('partial' in step) {
      simulator.partial(step.partial, step.is_final ?? false);
    } else if ('wait_ms' in step) {
      await new Promise((resolve) => setTimeout(resolve, step.wait_ms));
    } else {
      break;
    }
  }
  await simulator.hangup();
  return outcome;
}
