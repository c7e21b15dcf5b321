/** Values stored in the status/type columns; users query them, so they are a public contract. */

export const CALL_STATUSES = ['active', 'ended'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/** Why a call ended, as stored in call_sessions.end_reason. */
export const END_REASONS = [
  'connection_closed',
  'shutdown',
  'crashed',
  'end_call',
  'transfer_call',
  'peer_lost',
] as const;
export type EndReason = (typeof END_REASONS)[number];

export const EXCHANGE_STATUSES = ['streaming', 'completed', 'interrupted', 'superseded', 'failed'] as const;
export type ExchangeStatus = (typeof EXCHANGE_STATUSES)[number];

export const EXCHANGE_KINDS = ['greeting', 'reply'] as const;
export type ExchangeKind = (typeof EXCHANGE_KINDS)[number];

export const CALL_EVENT_TYPES = [
  'partial_transcript',
  'playback_finished',
  'interrupt',
  'invalid',
  'stale_stream_request',
  'preemption_discarded',
] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];
