import { createHmac } from 'node:crypto';

/**
 * Everything a webhook receiver sees, in one place: the event types, the payload of each,
 * the headers and the signature. docs/webhooks.md documents these shapes; change both together.
 */

export const WEBHOOK_EVENT_TYPES = ['call.started', 'call.ended', 'call.analyzed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The event id: the same on every attempt and redelivery of one event (the idempotency key). */
export const WEBHOOK_ID_HEADER = 'Webhook-Id';
/** Unix seconds when this attempt was signed; receivers refuse old ones (the replay window). */
export const WEBHOOK_TIMESTAMP_HEADER = 'Webhook-Timestamp';
/** `v1=<hex>`, HMAC-SHA256 of `${timestamp}.${body}`; during a secret rotation, two space-separated. */
export const WEBHOOK_SIGNATURE_HEADER = 'Webhook-Signature';
export const WEBHOOK_USER_AGENT = 'millis-llm-service-webhooks/1';
/** What docs/webhooks.md advises receivers to accept: timestamps at most this far from their clock. */
export const REPLAY_WINDOW_SECONDS = 300;

/** The call as every event shows it. After redaction, numbers, call_sid and metadata are null and `redacted` is true. */
export interface WebhookCall {
  session_id: string;
  agent_id: string;
  call_sid: string | null;
  from_number: string | null;
  to_number: string | null;
  metadata: Record<string, unknown> | null;
  status: string;
  started_at: string;
  ended_at: string | null;
  end_reason: string | null;
  duration_ms: number | null;
  turn_count: number;
  redacted: boolean;
}

export interface WebhookTranscriptLine {
  speaker: 'caller' | 'agent';
  text: string;
  at: string;
  offset_ms: number;
  interrupted: boolean;
}

export interface WebhookAnalysis {
  status: string;
  summary: string | null;
  outcome: string | null;
  sentiment: string | null;
  custom_fields: Record<string, unknown> | null;
  completed_at: string | null;
}

export interface CallStartedData {
  call: WebhookCall;
}

/** `transcript` is null once the call is redacted. */
export interface CallEndedData {
  call: WebhookCall;
  transcript: WebhookTranscriptLine[] | null;
}

/** `analysis` is null when no analysis is stored for the call (any more). */
export interface CallAnalyzedData {
  call: WebhookCall;
  analysis: WebhookAnalysis | null;
}

interface Envelope<T extends WebhookEventType, D> {
  /** The event id (= the Webhook-Id header). */
  id: string;
  type: T;
  /** When the event happened: the call's start, its end, the analysis' completion. */
  created_at: string;
  data: D;
}

export type WebhookPayload =
  | Envelope<'call.started', CallStartedData>
  | Envelope<'call.ended', CallEndedData>
  | Envelope<'call.analyzed', CallAnalyzedData>;

/** The `v1=<hex>` signature of one body at one timestamp with one secret. */
export function signatureOf(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one attempt; every secret in `secrets` signs (the current one, and the previous during a rotation). */
export function webhookHeaders(eventId: string, body: string, secrets: string[], now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'Content-Type': 'application/json',
    'User-Agent': WEBHOOK_USER_AGENT,
    [WEBHOOK_ID_HEADER]: eventId,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: secrets.map((secret) => signatureOf(secret, timestamp, body)).join(' '),
  };
}
