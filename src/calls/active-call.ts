import { randomUUID } from 'node:crypto';
import type { SessionRecord, ExchangeRecord } from '../audit/audit-records';
import type { CallChannel } from './call-channel';

/** Why an in-flight reply stopped speaking before it finished. */
export type AbortCause = 'interrupted' | 'superseded' | 'connection_closed' | 'shutdown';

/** A reply being streamed for one stream_id. */
export interface ReplyInFlight {
  streamId: number;
  exchange: ExchangeRecord;
  controller: AbortController;
  /** Resolves when the reply's task has finished, whatever the outcome. */
  done: Promise<void>;
}

/** The in-memory state of one WebSocket connection (one call). */
export class ActiveCall {
  readonly connectionId = randomUUID();
  session: SessionRecord | null = null;
  promptContext: Record<string, unknown> = {};
  /** Newest stream_id seen; only it may speak. */
  newestStreamId = -1;
  current: ReplyInFlight | null = null;
  ended = false;

  constructor(readonly channel: CallChannel) {}

  get sessionId(): string | null {
    return this.session?.sessionId ?? null;
  }
}
