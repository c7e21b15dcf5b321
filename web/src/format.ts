import type { EndReason, ExchangeStatus } from '../../src/call-records/call-status';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "+1 555 010 0100"-style grouping; NANP numbers as "+1 (555) 010-0100". */
export function formatPhone(number: string | null | undefined): string {
  if (!number) return 'unknown';
  const digits = number.replace(/\D/g, '');
  if (!digits) return number;
  if (digits.length === 11 && digits.startsWith('1'))
    return `+1 (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}`;
  const plus = number.trim().startsWith('+') ? '+' : '';
  const country = plus ? digits.slice(0, digits.startsWith('1') || digits.startsWith('7') ? 1 : 2) : '';
  const rest = digits.slice(country.length);
  const groups = rest.length <= 4 ? [rest] : [rest.slice(0, 3), ...chunk(rest.slice(3), 4)];
  return [plus + country, ...groups].filter(Boolean).join(' ');
}

function chunk(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

/** Millis sends no numbers for a call made from a browser (web call). */
export function isWebCall(from: string | null | undefined, to: string | null | undefined): boolean {
  return !from && !to;
}

/** "+1 (555) 010-0100 → +1 (555) 010-0199", or "Web call". */
export function formatParties(from: string | null | undefined, to: string | null | undefined): string {
  return isWebCall(from, to) ? 'Web call' : `${formatPhone(from)} → ${formatPhone(to)}`;
}

/** A snake_case name (an outcome, a status, an event type) as words: "follow_up" -> "follow up". */
export function asWords(name: string): string {
  return name.replace(/_/g, ' ');
}

/** "1 call", "2 calls"; `many` for irregular plurals. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Today: the time; otherwise the day and time. */
export function formatWhen(iso: string, now = new Date()): string {
  const date = new Date(iso);
  return date.toDateString() === now.toDateString() ? timeFormat.format(date) : dayTimeFormat.format(date);
}

export function formatFull(iso: string | null | undefined): string {
  return iso ? fullFormat.format(new Date(iso)) : '';
}

/** A call's length: "42 s", "3:07", "1:02:03". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A reply timing: "840 ms", "1.25 s". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Offset into a call: "0:07". */
export function formatOffset(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export const END_REASON_LABELS: Record<EndReason, string> = {
  connection_closed: 'Hung up',
  end_call: 'Ended by agent',
  transfer_call: 'Transferred',
  shutdown: 'Service shutdown',
  crashed: 'Crashed',
  peer_lost: 'Connection lost',
};

export const REPLY_STATUS_LABELS: Record<ExchangeStatus, string> = {
  streaming: 'Speaking…',
  completed: 'Completed',
  interrupted: 'Interrupted by the caller',
  superseded: 'Superseded by a newer request',
  failed: 'LLM failed: fallback message',
};

export function percent(part: number, whole: number): string {
  return whole ? `${((100 * part) / whole).toFixed(1)} %` : '–';
}
