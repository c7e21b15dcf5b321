/** call_analyses, as its repository reads and writes it. */

export const ANALYSIS_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type AnalysisStatus = (typeof ANALYSIS_STATUSES)[number];

export const SENTIMENTS = ['positive', 'neutral', 'negative'] as const;
export type Sentiment = (typeof SENTIMENTS)[number];

/** A type, not an interface: rows read through an SqlExecutor (Record<string, unknown>) convert to it. */
export type CallAnalysisRow = {
  call_session_id: string;
  request_id: string;
  status: AnalysisStatus;
  summary: string | null;
  outcome: string | null;
  sentiment: Sentiment | null;
  custom_fields: Record<string, unknown> | null;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  attempts: number;
  error: string | null;
  requested_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  duration_ms: number | null;
};

/** A request for an analysis: the row is waiting for the job `requestId`. */
export interface AnalysisRequest {
  callId: string;
  requestId: string;
}

/** What the model answered, once valid. */
export interface AnalysisResult {
  summary: string;
  outcome: string;
  sentiment: Sentiment;
  customFields: Record<string, unknown>;
  model: string;
  promptTokens: number | null;
  completionTokens: number | null;
}

/** The call as an analysis reads it: who, and what was said in order. */
export interface CallForAnalysis {
  id: string;
  sessionId: string;
  agentId: string;
  startedAt: Date;
  endedAt: Date | null;
  redacted: boolean;
  turns: Array<{ kind: 'greeting' | 'reply'; callerText: string | null; agentText: string }>;
}
