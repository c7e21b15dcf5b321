import { Injectable } from '@nestjs/common';
import { buildTranscript } from '../call-history/call-transcript';
import { CallAnalysisRepository } from '../call-records/call-analysis.repository';
import { CallHistoryRepository } from '../call-records/call-history.repository';
import type { CallSummaryRow } from '../call-records/call-record.types';
import type { WebhookDelivery } from './webhook-delivery.repository';
import type { WebhookAnalysis, WebhookCall, WebhookPayload, WebhookTranscriptLine } from './webhook-wire';

/**
 * The body of a delivery, built at each attempt from what the database holds then: a call
 * redacted after its event was queued leaves without its numbers, metadata and transcript.
 */
@Injectable()
export class WebhookPayloads {
  constructor(
    private readonly calls: CallHistoryRepository,
    private readonly analyses: CallAnalysisRepository,
  ) {}

  /** Null when the call is no longer stored (deleted by retention): there is nothing left to send. */
  async build(delivery: WebhookDelivery): Promise<WebhookPayload | null> {
    const call = await this.calls.findCall(delivery.sessionId);
    if (!call || call.id !== delivery.callId) return null;
    const envelope = { id: delivery.eventId, created_at: delivery.occurredAt.toISOString() };
    switch (delivery.eventType) {
      case 'call.started':
        return { ...envelope, type: 'call.started', data: { call: toWebhookCall(call) } };
      case 'call.ended':
        return {
          ...envelope,
          type: 'call.ended',
          data: { call: toWebhookCall(call), transcript: await this.transcript(call) },
        };
      case 'call.analyzed':
        return {
          ...envelope,
          type: 'call.analyzed',
          data: { call: toWebhookCall(call), analysis: await this.analysisFor(call) },
        };
      default: {
        const unknown: never = delivery.eventType;
        throw new Error(`no payload for event type ${String(unknown)}`);
      }
    }
  }

  /** Null once the call is redacted: its turns are kept, their words are not. */
  private async transcript(call: CallSummaryRow): Promise<WebhookTranscriptLine[] | null> {
    if (call.redacted_at) return null;
    const { lines } = buildTranscript(call, await this.calls.findExchanges(call.id));
    return lines.map((l) => ({
      speaker: l.speaker,
      text: l.text,
      at: l.at,
      offset_ms: l.offset_ms,
      interrupted: l.interrupted,
    }));
  }

  /**
   * The analysis part of call.analyzed, as call_analyses holds it now (a re-run may have replaced it since
   * the event). Null when none is stored. After redaction, its summary and custom fields are not sent.
   */
  private async analysisFor(call: CallSummaryRow): Promise<WebhookAnalysis | null> {
    const row = await this.analyses.find(call.id);
    if (!row) return null;
    const redacted = call.redacted_at !== null;
    return {
      status: row.status,
      summary: redacted ? null : row.summary,
      outcome: row.outcome,
      sentiment: row.sentiment,
      custom_fields: redacted ? null : row.custom_fields,
      completed_at: row.completed_at?.toISOString() ?? null,
    };
  }
}

export function toWebhookCall(call: CallSummaryRow): WebhookCall {
  return {
    session_id: call.session_id,
    agent_id: call.agent_id,
    call_sid: call.call_sid,
    from_number: call.from_number,
    to_number: call.to_number,
    metadata: call.metadata,
    status: call.status,
    started_at: call.started_at.toISOString(),
    ended_at: call.ended_at?.toISOString() ?? null,
    end_reason: call.end_reason,
    duration_ms: call.duration_ms === null ? null : Number(call.duration_ms),
    turn_count: call.turn_count,
    redacted: call.redacted_at !== null,
  };
}
