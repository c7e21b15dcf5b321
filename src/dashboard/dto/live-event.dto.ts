import type { EndReason, ExchangeKind, ExchangeStatus } from '../../call-records/call-status';

/**
 * The wire shapes of GET /api/live (server-sent events), shared with the web page.
 * snake_case like the rest of /api. Plain types: the page imports them at compile time only.
 */

/** One turn of a call in progress: the caller's words and the reply as sent so far. */
export interface LiveTurnDto {
  stream_id: number;
  kind: ExchangeKind;
  user_text: string | null;
  /**
   * What has been sent to the platform so far (capped for very long replies): pieces are streamed
   * only while a live view is open, so a finished turn carries its whole text from `reply_finished`.
   */
  text: string;
  status: ExchangeStatus;
  requested_at: string;
  time_to_first_token_ms: number | null;
  total_ms: number | null;
}

export interface LiveCallDto {
  session_id: string;
  agent_id: string;
  from_number: string | null;
  to_number: string | null;
  started_at: string;
  /** The most recent turns, oldest first. */
  turns: LiveTurnDto[];
}

/** Each SSE message: `event: <type>` and `data: <the rest as JSON>`. */
export type LiveEventDto =
  | { type: 'snapshot'; calls: LiveCallDto[] }
  | { type: 'call_started'; call: LiveCallDto }
  | { type: 'reply_started'; session_id: string; turn: LiveTurnDto }
  | { type: 'reply_piece'; session_id: string; stream_id: number; content: string }
  | {
      type: 'reply_finished';
      session_id: string;
      stream_id: number;
      status: ExchangeStatus;
      time_to_first_token_ms: number | null;
      total_ms: number;
      /** The whole reply as sent (capped like `text` of a turn): replaces what the pieces built. */
      text?: string;
      at: string;
    }
  | { type: 'call_ended'; session_id: string; end_reason: EndReason; at: string };

export type LiveEventType = LiveEventDto['type'];
