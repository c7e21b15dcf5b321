import type { ApiAuthStatusDto } from '../../src/auth/dto/api-auth-status.dto';
import type { CallAnalysisDto } from '../../src/call-history/dto/call-analysis.dto';
import type { CallDetailDto } from '../../src/call-history/dto/call-detail.dto';
import type { CallStatsDto } from '../../src/call-history/dto/call-stats.dto';
import type { CallPageDto } from '../../src/call-history/dto/call-summary.dto';
import { apiKey, signOut } from './session';

export type { CallAnalysisDto } from '../../src/call-history/dto/call-analysis.dto';
export type { CallDetailDto, CallEventDto, ExchangeDto, ToolCallDto } from '../../src/call-history/dto/call-detail.dto';
export type { CallStatsDto, DayStatsDto, AgentStatsDto } from '../../src/call-history/dto/call-stats.dto';
export type { CallPageDto, CallSummaryDto } from '../../src/call-history/dto/call-summary.dto';
export type { LiveCallDto, LiveEventDto, LiveTurnDto } from '../../src/dashboard/dto/live-event.dto';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | boolean | undefined | null>;

export function queryString(params: Params): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The key goes in a header; a 401 signs the page out. */
export function authHeaders(accept = 'application/json'): Record<string, string> {
  return { 'x-api-key': apiKey() ?? '', accept };
}

export async function request(path: string, init: RequestInit = {}, accept?: string): Promise<Response> {
  const response = await fetch(path, {
    ...init,
    headers: { ...authHeaders(accept), ...(init.headers as Record<string, string>) },
  });
  if (response.status === 401) {
    signOut();
    throw new ApiError(401, 'The API key was refused.');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { message?: string | string[] } | null;
    const message = Array.isArray(body?.message) ? body.message.join('; ') : (body?.message ?? response.statusText);
    throw new ApiError(response.status, message);
  }
  return response;
}

async function getJson<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  return (await request(path + queryString(params), { signal })).json() as Promise<T>;
}

export const api = {
  /** Whether the service has a key at all (public: the only thing it says). */
  async authStatus(): Promise<ApiAuthStatusDto> {
    const response = await fetch('/auth/status', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    return response.json() as Promise<ApiAuthStatusDto>;
  },
  /** Checks a key without storing it. */
  async check(key: string): Promise<boolean> {
    const response = await fetch('/api/calls?limit=1', { headers: { 'x-api-key': key, accept: 'application/json' } });
    if (response.status === 401) return false;
    if (!response.ok) throw new ApiError(response.status, response.statusText);
    return true;
  },
  listCalls: (params: Params, signal?: AbortSignal) => getJson<CallPageDto>('/api/calls', params, signal),
  getCall: (sessionId: string, signal?: AbortSignal) =>
    getJson<CallDetailDto>(`/api/calls/${encodeURIComponent(sessionId)}`, {}, signal),
  stats: (params: Params, signal?: AbortSignal) => getJson<CallStatsDto>('/api/stats', params, signal),
  /** Queues the call's analysis again; answers with the pending analysis. */
  async analyse(sessionId: string): Promise<CallAnalysisDto> {
    const response = await request(`/api/calls/${encodeURIComponent(sessionId)}/analysis`, {
      method: 'POST',
      // A browser sends Content-Length: 0, which the API reads as a body: it must be JSON.
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    return response.json() as Promise<CallAnalysisDto>;
  },
  async transcriptText(sessionId: string): Promise<string> {
    return (await request(`/api/calls/${encodeURIComponent(sessionId)}/transcript`, {}, 'text/plain')).text();
  },
};

/** Saves text as a file (the transcript needs the key header, so a plain link cannot fetch it). */
export function download(text: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
