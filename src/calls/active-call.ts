import { randomUUID } from 'node:crypto';
import type { AgentSettings } from '../agents/agent-settings';
import type { SessionRecord, ExchangeRecord } from '../audit/audit-records';
import type { ToolRound } from '../llm/tool-history';
import type { EndReason } from './entities/call-status';
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
  /** The agent's settings once known (at once when cached); `agentReady` resolves to them either way. */
  agent: AgentSettings | null = null;
  agentReady: Promise<AgentSettings> = new Promise(() => undefined);
  /** Tool calls and results of this call, replayed in later turns (the transcript only holds speech). */
  readonly toolRounds: ToolRound[] = [];
  /** Set when we sent end_call or transfer_call: the end_reason once the platform closes the socket. */
  requestedEnd: Extract<EndReason, 'end_call' | 'transfer_call'> | null = null;

  constructor(readonly channel: CallChannel) {}

  get sessionId(): string | null {
    return this.session?.sessionId ?? null;
  }
}
