import { Injectable } from '@nestjs/common';
import { CallCursor, decodeCursor, encodeCursor } from './call-cursor';
import { CallHistoryRepository } from '../call-records/call-history.repository';
import type { CallFilters } from '../call-records/call-list.query';
import type { CallSummaryRow, StatsRow } from '../call-records/call-record.types';
import { CallStatsRepository } from '../call-records/call-stats.repository';
import { toCallDetail, toCallSummary } from './call-history.mapper';
import { toFieldFilters } from './field-filters';
import { buildTranscript } from './call-transcript';
import type { CallDetailDto } from './dto/call-detail.dto';
import type { CallStatsDto, StatsBucketDto } from './dto/call-stats.dto';
import type { CallPageDto } from './dto/call-summary.dto';
import type { CallTranscriptDto } from './dto/call-transcript.dto';
import type { CallFiltersQueryDto, ListCallsQueryDto } from './dto/list-calls.query.dto';
import type { StatsQueryDto } from './dto/stats.query.dto';
import { HistoryException, HistoryExceptionCode } from './history.exception';

const DEFAULT_STATS_WINDOW_MS = 24 * 60 * 60 * 1000;

@Injectable()
export class CallHistoryService {
  constructor(
    private readonly repository: CallHistoryRepository,
    private readonly statsRepository: CallStatsRepository,
  ) {}

  async listCalls(query: ListCallsQueryDto): Promise<CallPageDto> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const filters = await this.resolveFilters(query);
    if (!filters) return { items: [], next_cursor: null };
    return this.page(filters, after, query.limit);
  }

  async listCallsForNumber(number: string, query: ListCallsQueryDto): Promise<CallPageDto> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const filters = await this.resolveFilters({ ...query, phone: number });
    if (!filters)
      throw new HistoryException(HistoryExceptionCode.PHONE_NUMBER_NOT_FOUND, `unknown phone number ${number}`);
    return this.page(filters, after, query.limit);
  }

  async getCall(sessionId: string): Promise<CallDetailDto> {
    const call = await this.findCall(sessionId);
    const [exchanges, events, analysis] = await Promise.all([
      this.repository.findExchanges(call.id),
      this.repository.findEvents(call.id),
      this.repository.findAnalysis(call.id),
    ]);
    return toCallDetail(call, exchanges, events, analysis);
  }

  async getTranscript(sessionId: string): Promise<CallTranscriptDto> {
    const call = await this.findCall(sessionId);
    return buildTranscript(call, await this.repository.findExchanges(call.id));
  }

  async getStats(query: StatsQueryDto): Promise<CallStatsDto> {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - DEFAULT_STATS_WINDOW_MS);
    if (from >= to) throw new HistoryException(HistoryExceptionCode.INVALID_TIME_RANGE, 'from must be before to');
    const [rows, outcomes] = await Promise.all([
      this.statsRepository.stats(from, to),
      this.statsRepository.outcomes(from, to),
    ]);
    const outcomesOf = (agentId: string | null) =>
      outcomes.filter((o) => o.agent_id === agentId).map((o) => ({ outcome: o.outcome, calls: o.calls }));
    const totals = rows.find((r) => r.grouping_set === 3);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      totals: totals
        ? bucket(totals)
        : { calls: 0, turns: 0, failed_exchanges: 0, failed_calls: 0, ttft_p50_ms: null, ttft_p95_ms: null },
      outcomes: outcomesOf(null),
      by_agent: rows
        .filter((r) => r.grouping_set === 1)
        .map((r) => ({ agent_id: r.agent_id!, ...bucket(r), outcomes: outcomesOf(r.agent_id) })),
      by_day: rows.filter((r) => r.grouping_set === 2).map((r) => ({ day: r.day!, ...bucket(r) })),
    };
  }

  /** The filters as the repository takes them; null when `phone` matches no known number (so no call can match). */
  async resolveFilters(query: CallFiltersQueryDto): Promise<CallFilters | null> {
    const filters: CallFilters = {
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      agentId: query.agent_id,
      status: query.status,
      hasFailures: query.has_failures,
      q: query.q,
      outcome: query.outcome,
      sentiment: query.sentiment,
      fields: query.field ? toFieldFilters(query.field) : undefined,
    };
    if (query.phone !== undefined) {
      filters.phoneNumberIds = await this.repository.findPhoneNumberIds(query.phone);
      if (filters.phoneNumberIds.length === 0) return null;
    }
    return filters;
  }

  private async findCall(sessionId: string): Promise<CallSummaryRow> {
    const call = await this.repository.findCall(sessionId);
    if (!call)
      throw new HistoryException(HistoryExceptionCode.SESSION_NOT_FOUND, `no call with session id ${sessionId}`);
    return call;
  }

  private async page(filters: CallFilters, after: CallCursor | undefined, limit: number): Promise<CallPageDto> {
    const rows = await this.repository.listCalls(filters, after, limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toCallSummary),
      next_cursor:
        rows.length > limit && last ? encodeCursor({ startedAt: last.cursor_started_at, id: last.id }) : null,
    };
  }
}

function bucket(row: StatsRow): StatsBucketDto {
  return {
    calls: row.calls,
    turns: row.turns,
    failed_exchanges: row.failed_exchanges,
    failed_calls: row.failed_calls,
    ttft_p50_ms: row.ttft_p50_ms,
    ttft_p95_ms: row.ttft_p95_ms,
  };
}
