import { Injectable, Logger, Optional } from '@nestjs/common';
import type { AgentSettings } from '../agents/agent-settings';
import type { ExchangeRecord, HedgeRecord } from '../audit/audit-records';
import { AuditWriter } from '../audit/audit-writer.service';
import { AppConfig } from '../config/app-config';
import type { TokenUsage, ToolCallRequest } from '../llm/llm-client';
import { LlmReplyError } from '../llm/llm-errors';
import { LlmService, ReplyChunk, TranscriptTurn } from '../llm/llm.service';
import type { ToolRound } from '../llm/tool-history';
import type { CallControlAction, ToolContext } from './tool-context';
import { executeToolCall, ToolOutcome } from './tool-executor';
import { ToolRegistry } from './tool-registry';

export interface TurnRequest {
  transcript: TranscriptTurn[];
  instruction?: string;
  promptContext: Record<string, unknown>;
  /** The reply's signal: interrupt, supersede or hang-up. */
  signal: AbortSignal;
  agent: AgentSettings;
  /** The call's tool history; completed rounds of this turn are appended to it. */
  rounds: ToolRound[];
  /** The turn's audit row: its tool_calls are appended and re-recorded after each round. */
  exchange: ExchangeRecord;
  call: ToolContext['call'];
  /** False for the greeting. */
  toolsAllowed: boolean;
  /** The call's logger. */
  log?: Pick<Logger, 'warn'>;
}

export type TurnEvent =
  | { type: 'text'; text: string }
  /** Usage summed over the turn's model calls so far. */
  | { type: 'usage'; usage: TokenUsage }
  | { type: 'filler'; text: string }
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
    private readonly audit: AuditWriter,
    @Optional() private readonly registry?: ToolRegistry,
  ) {}

  async *run(turn: TurnRequest): AsyncGenerator<TurnEvent> {
    const specs = turn.toolsAllowed && this.registry ? this.registry.specsFor(turn.agent) : [];
    const offered = new Set(specs.map((spec) => spec.name));
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    const { maxRounds } = this.config.tools;

    for (let round = 0; ; round++) {
      const lastRound = round >= maxRounds;
      let requests: ToolCallRequest[] = [];
      let text = '';
      const chunks = this.llm.streamReply({
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
          usage.promptTokens += chunk.usage.promptTokens;
          usage.completionTokens += chunk.usage.completionTokens;
          usage.totalTokens += chunk.usage.totalTokens;
          priceHedges(turn.exchange, round, chunk.usage.promptTokens);
          yield { type: 'usage', usage: { ...usage } };
        } else {
          recordProviders(turn, round, chunk);
        }
      }
      if (turn.signal.aborted || requests.length === 0) return;
      if (lastRound)
        throw new LlmReplyError('tool_rounds', `the model still asked for tools after ${maxRounds} rounds`);

      const controls: CallControlAction[] = [];
      const running = requests.map((call) =>
        executeToolCall(
          offered.has(call.name) ? this.registry?.get(call.name) : undefined,
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
      if (
        filler &&
        (await this.slowerThan(Promise.all(running), this.config.tools.fillerAfterMs)) &&
        !turn.signal.aborted
      ) {
        yield { type: 'filler', text: filler };
      }
      const outcomes = await Promise.all(running);
      this.recordRound(turn, text, requests, outcomes);
      if (turn.signal.aborted) return;
      if (controls.length) {
        yield { type: 'call_control', action: controls[0] };
        return;
      }
    }
  }

  /** The round joins the call's history as a whole: calls and their results, never one without the other. */
  private recordRound(turn: TurnRequest, text: string, calls: ToolCallRequest[], outcomes: ToolOutcome[]): void {
    turn.rounds.push({
      anchor: turn.transcript.length,
      streamId: turn.exchange.streamId,
      assistantText: text || null,
      calls,
      results: outcomes.map((outcome, i) => ({ toolCallId: calls[i].id, content: outcome.content })),
    });
    // A new array each time: the audit queue keeps a shallow copy of the record.
    turn.exchange.toolCalls = [...(turn.exchange.toolCalls ?? []), ...outcomes.map((o) => o.record)];
    this.audit.recordExchange(turn.exchange);
  }

  private fillerFor(calls: ToolCallRequest[], offered: Set<string>): string | undefined {
    for (const call of calls) {
      const filler = offered.has(call.name) ? this.registry?.get(call.name)?.options.filler : undefined;
      if (filler) return filler;
    }
    return undefined;
  }

  private async slowerThan(work: Promise<unknown>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)));
    try {
      return await Promise.race([work.then(() => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Which provider answered the round and what failed before it, on the exchange's audit row
 * (written when the reply ends). Arrays are replaced, not pushed to: the audit queue keeps
 * a shallow copy of the record.
 */
function recordProviders(
  turn: TurnRequest,
  round: number,
  chunk: Exclude<ReplyChunk, { type: 'text' | 'tool_calls' | 'usage' }>,
): void {
  const { exchange } = turn;
  switch (chunk.type) {
    case 'provider':
      exchange.provider = chunk.provider;
      exchange.model = chunk.model;
      return;
    case 'attempt_failed': {
      const { attempt } = chunk;
      exchange.failedAttempts = [...(exchange.failedAttempts ?? []), { round, ...attempt }];
      if (attempt.code !== 'circuit_open')
        turn.log?.warn(`LLM provider ${attempt.provider} did not answer stream ${exchange.streamId}: ${attempt.error}`);
      return;
    }
    case 'hedge':
      exchange.hedges = [...(exchange.hedges ?? []), { round, ...chunk.hedge, extraPromptTokens: null }];
      return;
    case 'round_end': {
      const { summary } = chunk;
      exchange.finishReason = summary.finishReason;
      exchange.responseModel = summary.responseModel ?? exchange.responseModel ?? null;
      if (summary.reasoning) {
        exchange.reasoningTokens = (exchange.reasoningTokens ?? 0) + summary.reasoning.tokens;
        exchange.reasoningMs = (exchange.reasoningMs ?? 0) + summary.reasoning.ms;
      }
      return;
    }
  }
}

/** A hedged round's extra requests were billed for about the same prompt as the one that answered. */
function priceHedges(exchange: ExchangeRecord, round: number, promptTokens: number): void {
  if (!exchange.hedges?.some((h) => h.round === round && h.extraPromptTokens === null)) return;
  exchange.hedges = exchange.hedges.map((h): HedgeRecord =>
    h.round === round && h.extraPromptTokens === null
      ? { ...h, extraPromptTokens: promptTokens * h.extra.filter((e) => e.outcome === 'aborted').length }
      : h,
  );
}
