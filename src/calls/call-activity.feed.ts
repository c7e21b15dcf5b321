import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { LlmErrorCode } from '../llm/llm-errors';
import type { EndReason, ExchangeKind, ExchangeStatus } from './entities/call-status';

/** Why a reply failed: the model's error kind, or 'unexpected' for a fault of our own. */
export type ReplyErrorCode = LlmErrorCode | 'unexpected';

/**
 * What happens on calls, as it happens, for observers that must not slow a call down
 * (metrics, the live dashboard, extensions). Publishing is synchronous and costs
 * nothing when nobody listens; the audit does not depend on it.
 */
export type CallActivity =
  | {
      type: 'call_started';
      sessionId: string;
      agentId: string;
      fromNumber: string | null;
      toNumber: string | null;
      metadata: Record<string, unknown> | null;
      at: string;
    }
  | { type: 'call_ended'; sessionId: string; endReason: EndReason; at: string }
  | { type: 'reply_started'; sessionId: string; streamId: number; kind: ExchangeKind; userText: string | null; at: string }
  | { type: 'reply_piece'; sessionId: string; streamId: number; content: string }
  | {
      type: 'reply_finished';
      sessionId: string;
      streamId: number;
      status: ExchangeStatus;
      /** Null when no token arrived. */
      timeToFirstTokenMs: number | null;
      totalMs: number;
      error: string | null;
      /** Set when the reply failed: count and branch on this, never on the text of `error`. */
      errorCode?: ReplyErrorCode;
      at: string;
    }
  /** `count`: frames dropped over the rate limit are reported once per window, all together. */
  | { type: 'frame_rejected'; sessionId: string | null; reason: string; count: number }
  /** The peer stopped answering pings and its socket was cut. */
  | { type: 'peer_lost'; sessionId: string | null };

@Injectable()
export class CallActivityFeed {
  private readonly subject = new Subject<CallActivity>();
  readonly activity$: Observable<CallActivity> = this.subject.asObservable();

  publish(activity: CallActivity): void {
    if (this.subject.observed) this.subject.next(activity);
  }

  /** Skips building an event (e.g. one per token) when nobody listens. */
  get observed(): boolean {
    return this.subject.observed;
  }
}
