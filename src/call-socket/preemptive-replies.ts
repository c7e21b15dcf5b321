import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuditWriter } from '../audit/audit-writer.service';
import { preciseNow } from '../common/clock';
import type { TokenUsage } from '../llm/llm-client';
import type { TranscriptTurn } from '../llm/llm-reply';
import { LlmService } from '../llm/llm.service';
import { ToolLoop } from '../tools/tool-loop';
import type { CallConnection } from './call-connection';
import { DiscardReason, HeldReply } from './held-reply';
import { PreemptionMetrics } from './preemption-metrics';
import { normaliseUtterance, sameTranscript } from './transcript-match';

/** Characters per token when a discarded request's prompt must be estimated (no usage came back). */
const CHARS_PER_TOKEN = 4;

/**
 * Preemptive replies: on the caller's final partial transcript, the model is asked at once
 * with the transcript the platform's stream_request will carry, and its answer is held
 * (nothing is sent). The stream_request that carries the same conversation takes it and
 * speaks it; anything else discards it, aborting its upstream request, and records what it
 * cost. The rule "never speak without a confirming stream_request" lives here: a held reply
 * reaches the wire only through `take`.
 */
@Injectable()
export class PreemptiveReplies {
  constructor(
    private readonly turns: ToolLoop,
    private readonly llm: LlmService,
    private readonly audit: AuditWriter,
    private readonly metrics: PreemptionMetrics,
  ) {}

  /** A final partial transcript: hold a reply to it, if the agent wants that and the call waits for the caller. */
  finalPartial(call: CallConnection, words: string): void {
    const previous = call.preemptive;
    // The same words again: the reply already held answers them.
    if (previous && normaliseUtterance(previous.userText) === normaliseUtterance(words)) return;
    if (previous) this.discard(call, previous, 'superseded');
    const agent = call.agent;
    if (!agent?.preemptiveReplies || call.state !== 'idle' || !normaliseUtterance(words)) return;
    const transcript = expectedTranscript(call, words);
    if (!transcript) return;
    const request = {
      transcript,
      promptContext: call.promptContext,
      agent,
      rounds: [...call.toolRounds],
      toolsAllowed: true,
    };
    const held = new HeldReply(transcript, words, request);
    const source = this.turns.firstRound({ ...request, signal: held.controller.signal });
    call.holdPreemptive(held);
    this.metrics.started();
    void held.hold(source);
  }

  /**
   * A stream_request: the held reply if it answers this transcript (taken off the call, with
   * the wait it saved), else null after discarding whatever was held.
   */
  take(call: CallConnection, transcript: readonly TranscriptTurn[]): { held: HeldReply; savedMs: number } | null {
    const held = call.preemptive;
    if (!held) return null;
    const confirmedAt = performance.now();
    call.releasePreemptive(held);
    if (held.failed) {
      this.discard(call, held, 'failed');
      return null;
    }
    if (!sameTranscript(held.transcript, transcript)) {
      this.discard(call, held, 'mismatch');
      return null;
    }
    const savedMs = held.savedMs(confirmedAt);
    this.metrics.used(savedMs);
    return { held, savedMs };
  }

  /** Drops the held reply, if any (an interrupt, the end of the call). */
  discardHeld(call: CallConnection, reason: DiscardReason): void {
    const held = call.preemptive;
    if (held) this.discard(call, held, reason);
  }

  private discard(call: CallConnection, held: HeldReply, reason: DiscardReason): void {
    call.releasePreemptive(held);
    held.controller.abort(reason);
    const { usage, estimated } = this.costOf(held);
    const now = performance.now();
    this.audit.recordEvent({
      id: randomUUID(),
      sessionId: call.sessionId,
      type: 'preemption_discarded',
      streamId: null,
      payload: {
        reason,
        user_text: held.userText,
        started_at: held.startedAtIso,
        held_ms: Math.round(now - held.startedAt),
        first_output_ms: held.firstOutputAt === null ? null : Math.round(held.firstOutputAt - held.startedAt),
        completed: held.settled && !held.failed && held.usage !== null,
        wanted_tools: held.wantsTools,
        provider: held.provider,
        model: held.model ?? held.request.agent.model,
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.totalTokens,
        usage_estimated: estimated,
      },
      receivedAt: preciseNow(),
    });
    this.metrics.discarded(reason, usage.totalTokens);
    call.log.debug(`preemptive reply discarded on call ${call.sessionId} (${reason})`);
  }

  /**
   * What the discarded request was billed, as the provider reported it; when it was cut before
   * its usage came, estimated: the prompt at four characters a token, a token per text delta.
   */
  private costOf(held: HeldReply): { usage: TokenUsage; estimated: boolean } {
    if (held.usage) return { usage: held.usage, estimated: false };
    if (held.provider === null && held.textDeltas === 0 && held.failed)
      return { usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 }, estimated: true };
    const { transcript, promptContext, agent, rounds } = held.request;
    const chars = this.llm
      .buildMessages({ transcript, promptContext, settings: agent, toolRounds: rounds })
      .reduce((sum, message) => sum + (typeof message.content === 'string' ? message.content.length : 0), 0);
    const promptTokens = Math.ceil(chars / CHARS_PER_TOKEN);
    const completionTokens = held.textDeltas;
    return { usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens }, estimated: true };
  }
}

/**
 * The transcript the platform's next stream_request will carry if the caller's turn ends with
 * `words`: the last one it sent, our reply to it as we sent it, then the caller's words. Null when
 * that cannot be known (no reply yet, or the last one was cut off: the caller heard less of it).
 */
function expectedTranscript(call: CallConnection, words: string): TranscriptTurn[] | null {
  const last = call.lastReply;
  if (!last || (last.exchange.status !== 'completed' && last.exchange.status !== 'failed')) return null;
  const said = last.exchange.responseText;
  return [
    ...last.transcript,
    ...(said ? [{ role: 'assistant' as const, content: said }] : []),
    { role: 'user', content: words },
  ];
}
