import { Injectable } from '@nestjs/common';
import { BehaviorSubject, distinctUntilChanged, Observable, Subject } from 'rxjs';
import type { LlmErrorCode } from '../llm/llm-errors';
import type { EndReason, ExchangeKind, ExchangeStatus } from '../call-records/call-status';

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
  | {
      type: 'reply_started';
      sessionId: string;
      streamId: number;
      kind: ExchangeKind;
      userText: string | null;
      at: string;
    }
  /** One piece as sent to the caller: published only while `wantsPieces` (a live view is open somewhere). */
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
      /** The whole reply as sent, so a view that got no pieces (or only some) still shows the turn complete. */
      text?: string;
      at: string;
    }
  /** `count`: frames dropped over the rate limit are reported once per window, all together. */
  | { type: 'frame_rejected'; sessionId: string | null; reason: string; count: number }
  /** The peer stopped answering pings and its socket was cut. */
  | { type: 'peer_lost'; sessionId: string | null };

@Injectable()
export class CallActivityFeed {
  private readonly subject = new Subject<CallActivity>();
  private readonly everywhere = new Subject<CallActivity>();
  private readonly viewersHere = new BehaviorSubject(0);
  private viewersElsewhere = false;
  private viewersOnOtherInstances = false;

  /** The calls of this process. */
  readonly activity$: Observable<CallActivity> = this.subject.asObservable();
  /**
   * The calls of the whole service: this process's and (`receive`) those of the other workers
   * (WORKERS) and of the other instances on the database (the bus). For views of every call (the live view); counting (metrics) uses `activity$`,
   * or each call would be counted once per worker.
   */
  readonly clusterActivity$: Observable<CallActivity> = this.everywhere.asObservable();
  /** Live views connected to this process, as they change. */
  readonly viewers$: Observable<number> = this.viewersHere.pipe(distinctUntilChanged());

  publish(activity: CallActivity): void {
    if (this.subject.observed) this.subject.next(activity);
    if (this.everywhere.observed) this.everywhere.next(activity);
  }

  /** Activity of another worker's calls (forwarded by the cluster's primary) or another instance's (the bus). */
  receive(activity: CallActivity): void {
    this.everywhere.next(activity);
  }

  /** Skips building an event when nobody listens. */
  get observed(): boolean {
    return this.subject.observed || this.everywhere.observed;
  }

  /**
   * Whether to publish `reply_piece`: one event per piece is the expensive part of the feed, and
   * only a live view shows them, so they are produced only while one is connected, here, in another
   * worker (WORKERS) or on another instance. A view opened mid-reply gets the whole text with `reply_finished`.
   */
  get wantsPieces(): boolean {
    return this.viewersHere.value > 0 || this.viewersElsewhere || this.viewersOnOtherInstances;
  }

  /** The live view's connected clients in this process (kept current by LiveCallsService). */
  setViewersHere(count: number): void {
    if (count !== this.viewersHere.value) this.viewersHere.next(count);
  }

  /** Whether a live view is connected in another worker (told by the cluster's primary). */
  setViewersElsewhere(present: boolean): void {
    this.viewersElsewhere = present;
  }

  /** Whether a live view is connected on another instance (told by the bus). */
  setViewersOnOtherInstances(present: boolean): void {
    this.viewersOnOtherInstances = present;
  }
}
