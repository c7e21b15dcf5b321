import type { CallStatus } from './call-status';

export interface CallFilters {
  from?: Date;
  to?: Date;
  agentId?: string;
  /** Ids of the phone_numbers rows the `phone` filter resolved to; the call matches on either side. */
  phoneNumberIds?: string[];
  status?: CallStatus;
  hasFailures?: boolean;
  q?: string;
  /** Of the call's analysis. */
  outcome?: string;
  sentiment?: string;
  fields?: FieldFilter[];
}

/** A custom field of the analysis that must hold one of `values` (typed JSON values). */
export interface FieldFilter {
  name: string;
  values: unknown[];
}

/**
 * Position after the last call of a page, in the list's order (started_at DESC, id DESC).
 * started_at travels as Postgres text with microseconds: a JS Date would round it to the
 * millisecond and skip or repeat calls that started within the same millisecond.
 */
export interface CallListPosition {
  startedAt: string;
  id: string;
}

export const SUMMARY_COLUMNS = `
  v.id, v.session_id, v.agent_id, v.call_sid, v.metadata, v.from_number, v.to_number, v.status, v.end_reason,
  v.started_at, v.ended_at, v.close_code, v.duration_ms, v.turn_count, v.failed_exchanges, v.has_failures,
  v.summary, v.redacted_at, a.status AS analysis_status, a.outcome, a.sentiment, a.summary AS analysis_summary,
  a.custom_fields,
  to_char(v.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_started_at`;

/** The calls with their analysis, if any: SUMMARY_COLUMNS reads both. */
export const CALLS_WITH_ANALYSIS = `call_summaries v LEFT JOIN call_analyses a ON a.call_session_id = v.id`;

export const PHONE_NUMBER_IDS_QUERY = `SELECT id FROM phone_numbers WHERE phone_digits(number) = phone_digits($1)`;

/** The list (and, without a limit, the export) query; also what `npm run explain-check` explains. */
export function listCallsQuery(
  filters: CallFilters,
  after?: CallListPosition,
  limit?: number,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = buildWhere(filters, params);
  if (after) {
    where.push(
      `(v.started_at, v.id) < (${param(params, after.startedAt)}::timestamptz, ${param(params, after.id)}::uuid)`,
    );
  }
  const sql = `SELECT ${SUMMARY_COLUMNS}
    FROM ${CALLS_WITH_ANALYSIS}
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY v.started_at DESC, v.id DESC
    ${limit === undefined ? '' : `LIMIT ${param(params, limit)}`}`;
  return { sql, params };
}

function param(params: unknown[], value: unknown): string {
  params.push(value);
  return `$${params.length}`;
}

function buildWhere(filters: CallFilters, params: unknown[]): string[] {
  const where: string[] = [];
  if (filters.from) where.push(`v.started_at >= ${param(params, filters.from)}`);
  if (filters.to) where.push(`v.started_at < ${param(params, filters.to)}`);
  if (filters.agentId !== undefined)
    where.push(
      `left(v.agent_id, 200) = left(${param(params, filters.agentId)}, 200) AND v.agent_id = $${params.length}`,
    );
  if (filters.phoneNumberIds) {
    const ids = param(params, filters.phoneNumberIds);
    where.push(`(v.from_number_id = ANY(${ids}::uuid[]) OR v.to_number_id = ANY(${ids}::uuid[]))`);
  }
  if (filters.status) where.push(`v.status = ${param(params, filters.status)}`);
  if (filters.hasFailures !== undefined) {
    where.push(
      `${filters.hasFailures ? '' : 'NOT '}EXISTS (SELECT 1 FROM stream_exchanges f WHERE f.call_session_id = v.id AND f.status = 'failed')`,
    );
  }
  if (filters.q) {
    where.push(
      `EXISTS (SELECT 1 FROM stream_exchanges m WHERE m.call_session_id = v.id
               AND exchange_search_vector(m.response_text, m.transcript) @@ call_search_query(${param(params, filters.q)}))`,
    );
  }
  if (filters.outcome !== undefined) where.push(`a.outcome = ${param(params, filters.outcome)}`);
  if (filters.sentiment !== undefined) where.push(`a.sentiment = ${param(params, filters.sentiment)}`);
  for (const field of filters.fields ?? []) {
    // Containment, so the GIN index on custom_fields answers it.
    const alternatives = field.values.map(
      (value) => `a.custom_fields @> ${param(params, JSON.stringify({ [field.name]: value }))}::jsonb`,
    );
    where.push(alternatives.length === 1 ? alternatives[0] : `(${alternatives.join(' OR ')})`);
  }
  return where;
}
