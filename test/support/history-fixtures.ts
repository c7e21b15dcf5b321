import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

export const API_KEY = 'history-test-key-0123456789';

export interface ExchangeSeed {
  kind?: 'greeting' | 'reply';
  user?: string;
  /** Earlier turns repeated in the transcript, as the platform sends them. */
  history?: Array<{ role: 'user' | 'assistant'; content: string }>;
  response: string;
  status?: 'streaming' | 'completed' | 'interrupted' | 'superseded' | 'failed';
  model?: string | null;
  /** Offset of requested_at from the call start (ms); first token and completion follow. */
  atMs: number;
  ttftMs?: number;
  totalMs?: number;
}

export interface CallSeed {
  sessionId: string;
  agentId?: string;
  from?: string | null;
  to?: string | null;
  startedAt: Date;
  durationMs?: number | null;
  status?: 'active' | 'ended';
  endReason?: string;
  metadata?: Record<string, unknown> | null;
  exchanges?: ExchangeSeed[];
  events?: Array<{ type: string; streamId?: number | null; payload?: Record<string, unknown>; atMs: number }>;
}

/** Inserts one call as the audit writer would have stored it; returns call_sessions.id. */
export async function seedCall(db: Pool, call: CallSeed): Promise<string> {
  const numbers = [call.from, call.to].filter((n): n is string => !!n);
  for (const number of numbers) {
    await db.query(
      `INSERT INTO phone_numbers (number, first_seen_at, last_seen_at) VALUES ($1, $2, $2)
       ON CONFLICT ((text_sha256(number))) DO UPDATE SET last_seen_at = GREATEST(phone_numbers.last_seen_at, EXCLUDED.last_seen_at)`,
      [number, call.startedAt],
    );
  }
  const ended = call.status !== 'active' && call.durationMs !== null;
  const { rows } = await db.query(
    `INSERT INTO call_sessions (session_id, agent_id, metadata, from_number_id, to_number_id, status, end_reason, started_at, ended_at, close_code)
     VALUES ($1, $2, $3, (SELECT id FROM phone_numbers WHERE number = $4), (SELECT id FROM phone_numbers WHERE number = $5),
             $6, $7, $8, $9, $10)
     RETURNING id`,
    [
      call.sessionId,
      call.agentId ?? 'agent-1',
      call.metadata === undefined ? null : JSON.stringify(call.metadata),
      call.from ?? null,
      call.to ?? null,
      ended ? 'ended' : 'active',
      ended ? (call.endReason ?? 'connection_closed') : null,
      call.startedAt,
      ended ? new Date(call.startedAt.getTime() + (call.durationMs ?? 60_000)) : null,
      ended ? 1000 : null,
    ],
  );
  const callId: string = rows[0].id;
  const at = (ms: number) => new Date(call.startedAt.getTime() + ms);
  let streamId = 0;
  for (const e of call.exchanges ?? []) {
    const kind = e.kind ?? 'reply';
    const transcript = kind === 'greeting' ? [] : [...(e.history ?? []), { role: 'user', content: e.user ?? '' }];
    const ttft = e.ttftMs ?? 100;
    const status = e.status ?? 'completed';
    await db.query(
      `INSERT INTO stream_exchanges (id, call_session_id, stream_id, kind, transcript, response_text, status, model, error,
                                     requested_at, first_token_at, completed_at, prompt_tokens, completion_tokens, total_tokens)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 10, 5, 15)`,
      [
        randomUUID(),
        callId,
        streamId++,
        kind,
        JSON.stringify(transcript),
        e.response,
        status,
        e.model === undefined ? 'fake-model' : e.model,
        status === 'failed' ? 'LLM timed out' : null,
        at(e.atMs),
        status === 'failed' ? null : at(e.atMs + ttft),
        at(e.atMs + (e.totalMs ?? ttft + 200)),
      ],
    );
  }
  for (const ev of call.events ?? []) {
    await db.query(
      `INSERT INTO call_events (id, call_session_id, type, stream_id, payload, received_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [randomUUID(), callId, ev.type, ev.streamId ?? null, JSON.stringify(ev.payload ?? {}), at(ev.atMs)],
    );
  }
  return callId;
}

/** A short, ordinary call: greeting, one question, one answer. */
export function simpleCall(
  sessionId: string,
  startedAt: Date,
  overrides: Partial<CallSeed> = {},
  question = 'What are your opening hours?',
): CallSeed {
  return {
    sessionId,
    startedAt,
    from: '+15550100',
    to: '+15550199',
    exchanges: [
      { kind: 'greeting', response: 'Hello, how can I help?', atMs: 10, model: null, ttftMs: 0 },
      {
        user: question,
        response: 'We are open nine to five.',
        atMs: 3000,
        history: [{ role: 'assistant', content: 'Hello, how can I help?' }],
      },
    ],
    ...overrides,
  };
}

export const minutesAgo = (minutes: number, from = Date.now()) => new Date(from - minutes * 60_000);

/**
 * `count` ended calls named `<prefix>-1` .. `<prefix>-<count>`, one second apart from
 * 2025-06-01, each with about `metadataBytes` of metadata: set-based, for volume tests.
 */
export async function seedBulkCalls(db: Pool, prefix: string, count: number, metadataBytes: number): Promise<void> {
  await db.query(
    `INSERT INTO call_sessions (session_id, agent_id, metadata, status, end_reason, started_at, ended_at)
     SELECT $3 || '-' || g, 'agent-' || (g % 5), jsonb_build_object('n', g, 'notes', repeat('x', $2::int)),
            'ended', 'connection_closed', ts, ts + interval '90 seconds'
     FROM generate_series(1, $1::int) AS g
     CROSS JOIN LATERAL (SELECT timestamptz '2025-06-01T00:00:00Z' + g * interval '1 second') AS t(ts)`,
    [count, metadataBytes, prefix],
  );
}
