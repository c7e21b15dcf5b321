import { Injectable, Logger } from '@nestjs/common';
import type { ToolCallRecord } from '../audit/audit-records';
import { within } from '../common/within';
import { AppConfig } from '../config/app-config';
import type { TokenUsage, ToolCallRequest } from '../llm/llm-client';
import { LlmReplyError } from '../llm/llm-errors';
import type { LlmSettings, ReplyChunk, TranscriptTurn } from '../llm/llm-reply';
import { LlmService } from '../llm/llm.service';
import type { ToolRound } from '../llm/tool-history';
import type { ToolAgent } from './tool-agent';
import type { CallControlAction, ToolContext } from './tool-context';
import { executeToolCall } from './tool-executor';
import { ToolRegistry } from './tool-registry';

export interface TurnRequest {
  transcript: TranscriptTurn[];
  instruction?: string;
  promptContext: Record<string, unknown>;
  /** The reply's signal: interrupt, supersede or hang-up. */
  signal: AbortSignal;
  agent: ToolAgent & LlmSettings;
  /** The call's tool history so far; the caller appends each `tool_round` this turn yields before asking for more. */
  rounds: readonly ToolRound[];
  call: ToolContext['call'];
  /** False for the greeting. */
  toolsAllowed: boolean;
  /** The call's logger. */
  log?: Pick<Logger, 'warn'>;
  /**
   * The model's first round, already asked for (a preemptive reply, held until confirmed):
   * consumed instead of asking again. Tools it wants run here, after confirmation, like any other.
   */
  firstRound?: AsyncIterable<ReplyChunk>;
}

/** What the model's first round of a turn is asked with. */
export type FirstRoundRequest = Pick<
  TurnRequest,
  'transcript' | 'promptContext' | 'signal' | 'agent' | 'rounds' | 'toolsAllowed'
>;

/** What the model said about one round besides text: the provider, failures, hedges, the round's end. */
export type ProviderEvent = Exclude<ReplyChunk, { type: 'text' | 'tool_calls' | 'usage' }> & { round: number };

/**
 * What happened during a turn, in order. The turn records nothing itself: the caller owns
 * the exchange and the call's tool history and applies these to them.
 */
export type TurnEvent =
  | { type: 'text'; text: string }
  /** One model call's usage (`usage`), and the turn's so far (`total`). */
  | { type: 'usage'; round: number; usage: TokenUsage; total: TokenUsage }
  | { type: 'filler'; text: string }
  | ProviderEvent
  /** A round's tools have finished: the round for the call's history, and the calls for the audit. */
  | { type: 'tool_round'; round: ToolRound; calls: ToolCallRecord[] }
  | { type: 'call_control'; action: CallControlAction };

/**
 * One spoken turn with tools: stream the model; if it asks for tools, run them (in
 * parallel, validated, with a timeout), feed the results back and stream again, up to
 * MAX_TOOL_ROUNDS rounds. Text is yielded as it arrives. Without tools it is exactly
 * one model call relayed as it streams.
 */
@Injectable()
export class ToolLoop {
  constructor(
    private readonly llm: LlmService,
    private readonly config: AppConfig,
    private readonly registry: ToolRegistry,
  ) {}

  /** Round 0 of a turn on its own, asked exactly as run() asks it: what a preemptive reply holds. */
  firstRound(turn: FirstRoundRequest): AsyncGenerator<ReplyChunk> {
    const specs = turn.toolsAllowed ? this.registry.specsFor(turn.agent) : [];
    return this.llm.streamReply({
      transcript: turn.transcript,
      promptContext: turn.promptContext,
      signal: turn.signal,
      settings: turn.agent,
      tools: specs,
      toolChoice: this.config.tools.maxRounds > 0 ? 'auto' : 'none',
      toolRounds: turn.rounds,
    });
  }

  async *run(turn: TurnRequest): AsyncGenerator<TurnEvent> {
    const specs = turn.toolsAllowed ? this.registry.specsFor(turn.agent) : [];
    const offered = new Set(specs.map((spec) => spec.name));
    const total: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    const { maxRounds } = this.config.tools;

    for (let round = 0; ; round++) {
      const lastRound = round >= maxRounds;
      let requests: ToolCallRequest[] = [];
      let text = '';
      const chunks =
        (round === 0 && turn.firstRound) ||
        this.llm.streamReply({
          transcript: turn.transcript,
          instruction: turn.instruction,
          promptContext: turn.promptContext,
          signal: turn.signal,
          settings: turn.agent,
          tools: specs,
          toolChoice: lastRound ? 'none' : 'auto',
          toolRounds: turn.rounds,
        });
      for await (const chunk of chunks) {
        if (chunk.type === 'text') {
          text += chunk.text;
          yield chunk;
        } else if (chunk.type === 'tool_calls') {
          requests = chunk.calls;
        } else if (chunk.type === 'usage') {
          total.promptTokens += chunk.usage.promptTokens;
          total.completionTokens += chunk.usage.completionTokens;
          total.totalTokens += chunk.usage.totalTokens;
          yield { type: 'usage', round, usage: chunk.usage, total: { ...total } };
        } else {
          yield { ...chunk, round };
        }
      }
      if (turn.signal.aborted || requests.length === 0) return;
      if (lastRound)
        throw new LlmReplyError('tool_rounds', `the model still asked for tools after ${maxRounds} rounds`);

      const controls: CallControlAction[] = [];
      const running = requests.map((call) =>
        executeToolCall(
          offered.has(call.name) ? this.registry.get(call.name) : undefined,
          call,
          {
            signal: turn.signal,
            call: turn.call,
            agent: turn.agent,
            requestCallControl: (action) => controls.push(action),
          },
          { timeoutMs: this.config.tools.timeoutMs, round, log: turn.log },
        ),
      );
      const filler = this.fillerFor(requests, offered);
      if (filler && !(await within(Promise.all(running), this.config.tools.fillerAfterMs)) && !turn.signal.aborted) {
        yield { type: 'filler', text: filler };
      }
      const outcomes = await Promise.all(running);
      // The round joins the call's history as a whole: calls and their results, never one without the other.
      yield {
        type: 'tool_round',
        round: {
          anchor: turn.transcript.length,
          streamId: turn.call.streamId,
          assistantText: text || null,
          calls: requests,
          results: outcomes.map((outcome, i) => ({ toolCallId: requests[i].id, content: outcome.content })),
        },
        calls: outcomes.map((outcome) => outcome.record),
      };
      if (turn.signal.aborted) return;
      if (controls.length) {
        yield { type: 'call_control', action: controls[0] };
        return;
      }
    }
  }

  private fillerFor(calls: ToolCallRequest[], offered: Set<string>): string | undefined {
    for (const call of calls) {
      const filler = offered.has(call.name) ? this.registry.get(call.name)?.options.filler : undefined;
      if (filler) return filler;
    }
    return undefined;
  }
}
