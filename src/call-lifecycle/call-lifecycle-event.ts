import { createHash } from 'node:crypto';
import type { SqlExecutor } from '../database/sql-executor';

export const CALL_LIFECYCLE_EVENT_TYPES = ['call.started', 'call.ended', 'call.analyzed'] as const;
export type CallLifecycleEventType = (typeof CALL_LIFECYCLE_EVENT_TYPES)[number];

/** Something that happened to a stored call, for the work that follows it (analysis, webhooks). */
export interface CallLifecycleEvent {
  /** The same for the same event however often it is handed on: its idempotency key. */
  id: string;
  type: CallLifecycleEventType;
  /** call_sessions.id */
  callId: string;
  /** The platform's session_id. */
  sessionId: string;
  agentId: string;
  /** started_at, ended_at, or when the analysis was stored. */
  occurredAt: Date;
}

/**
 * Receives events inside the transaction that dispatches them: it may only write rows and send
 * jobs through `tx` (no network, no model). It must be idempotent (key on the event id): a
 * failed transaction hands the same events again.
 */
export interface CallLifecycleListener {
  onCallEvents(events: CallLifecycleEvent[], tx: SqlExecutor): Promise<void>;
}

/** A uuid derived from the event, so every instance names the same event alike. */
export function callLifecycleEventId(callId: string, type: CallLifecycleEventType, occurredAt: Date): string {
  const hex = createHash('sha256').update(`${callId}|${type}|${occurredAt.toISOString()}`).digest('hex');
  // Shaped as an RFC 9562 version 8 (custom) uuid.
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function callLifecycleEvent(
  type: CallLifecycleEventType,
  call: { callId: string; sessionId: string; agentId: string },
  occurredAt: Date,
): CallLifecycleEvent {
  return {
    id: callLifecycleEventId(call.callId, type, occurredAt),
    type,
    callId: call.callId,
    sessionId: call.sessionId,
    agentId: call.agentId,
    occurredAt,
  };
}
