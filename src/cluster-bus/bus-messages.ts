import type { CallActivity } from '../call-activity/call-activity.feed';

/**
 * Every channel of the bus and the message each one carries: the one place that knows the
 * names and the wire format. Postgres NOTIFY carries a text payload of less than 8000 bytes;
 * a message that does not fit travels in parts (`encodeNotifications`) and is put together
 * again on arrival (`Reassembler`).
 */
export const BUS_CHANNELS = {
  /** What happens on each instance's calls, for the live views of the others. */
  live: 'millis_live',
  /** An agent profile was written: every instance drops it from its cache. */
  agentProfiles: 'millis_agent_profiles',
} as const;

export type BusChannel = (typeof BUS_CHANNELS)[keyof typeof BUS_CHANNELS];

/** A call in progress as `sync` announces it (enough to show it in a live view). */
export interface SyncedCall {
  sessionId: string;
  agentId: string;
  fromNumber: string | null;
  toNumber: string | null;
  at: string;
}

export type LiveMessage =
  /** Activity of the sender's calls, in order (reply pieces coalesced per turn). */
  | { type: 'activity'; events: CallActivity[] }
  /** Every call in progress on the sender: the others end the sender's calls they still show and it lacks. */
  | { type: 'sync'; calls: SyncedCall[] }
  /** Live views open on the sender (then its peers produce reply pieces). */
  | { type: 'viewers'; count: number };

export interface AgentProfileMessage {
  agentId: string;
}

export interface BusMessages {
  millis_live: LiveMessage;
  millis_agent_profiles: AgentProfileMessage;
}

/** Who sent a message: the process (`origin`, its instance id) and its instance (`group`, shared by its workers). */
export interface BusSender {
  origin: string;
  group: string;
}

/** Postgres refuses a payload of 8000 bytes or more; this leaves room to spare. */
export const MAX_PAYLOAD_BYTES = 7_900;
/** A message needing more parts than this is not sent (counted as dropped, `too_large`). */
export const MAX_PARTS = 64;
const FORMAT = 1;

interface Whole {
  v: number;
  o: string;
  g: string;
  /** Unique per sender: Postgres delivers identical payloads sent in one transaction only once. */
  q: number;
  m: unknown;
}

interface Part {
  v: number;
  o: string;
  g: string;
  /** The message this part belongs to (per sender). */
  q: number;
  i: number;
  n: number;
  /** A slice of the whole message's JSON. */
  c: string;
}

/**
 * The payloads that carry `message`: one when it fits, else its JSON cut into parts that each
 * fit (never inside a surrogate pair). Null when it would need more than MAX_PARTS.
 */
export function encodeNotifications(sender: BusSender, sequence: number, message: unknown): string[] | null {
  const whole: Whole = { v: FORMAT, o: sender.origin, g: sender.group, q: sequence, m: message };
  const text = JSON.stringify(whole);
  if (Buffer.byteLength(text) <= MAX_PAYLOAD_BYTES) return [text];
  const envelope = (i: number, n: number, c: string): Part => ({
    v: FORMAT,
    o: sender.origin,
    g: sender.group,
    q: sequence,
    i,
    n,
    c,
  });
  // The room a slice has: the envelope's own bytes (with room for large part numbers) come off.
  const room = MAX_PAYLOAD_BYTES - Buffer.byteLength(JSON.stringify(envelope(MAX_PARTS, MAX_PARTS, '')));
  const slices: string[] = [];
  let start = 0;
  while (start < text.length) {
    if (slices.length === MAX_PARTS) return null;
    let end = Math.min(text.length, start + room);
    // JSON escapes and multi-byte characters make a slice longer than its length: shrink until it fits.
    while (Buffer.byteLength(JSON.stringify(text.slice(start, end))) - 2 > room) {
      end = start + Math.max(1, Math.floor((end - start) * 0.9));
    }
    if (end < text.length && end - 1 > start && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
    slices.push(text.slice(start, end));
    start = end;
  }
  return slices.map((c, i) => JSON.stringify(envelope(i, slices.length, c)));
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

export interface Received {
  sender: BusSender;
  message: unknown;
}

/** Parts of a message still missing after this long are given up (their sender's connection broke mid-message). */
const PART_TIMEOUT_MS = 10_000;
/** At most this many messages being put together at once; the oldest is given up beyond it. */
const MAX_PENDING = 256;

/**
 * Turns payloads back into messages: a whole one at once, parts once all have arrived (parts
 * of one message come in order, on one connection). Anything unreadable is refused with a
 * reason, never thrown.
 */
export class Reassembler {
  private readonly pending = new Map<string, { parts: string[]; received: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A message, `null` while parts are missing, or the reason the payload is refused. */
  accept(payload: string): Received | null | { refused: string } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return { refused: 'not JSON' };
    }
    if (!isEnvelope(parsed)) return { refused: 'not a bus message' };
    const sender = { origin: parsed.o, group: parsed.g };
    if ('m' in parsed) return { sender, message: parsed.m };
    const part = parsed;
    if (!isPart(part)) return { refused: 'malformed part' };
    this.expire();
    const key = `${part.o}:${part.q}`;
    let entry = this.pending.get(key);
    if (!entry) {
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      entry = { parts: new Array<string>(part.n), received: 0, at: this.now() };
      this.pending.set(key, entry);
    }
    if (entry.parts.length !== part.n) return { refused: 'part count changed' };
    if (entry.parts[part.i] === undefined) entry.received += 1;
    entry.parts[part.i] = part.c;
    if (entry.received < part.n) return null;
    this.pending.delete(key);
    const inner = this.accept(entry.parts.join(''));
    return inner !== null && 'sender' in inner ? inner : { refused: 'parts do not make a message' };
  }

  /** Messages waiting for parts. */
  get incomplete(): number {
    return this.pending.size;
  }

  private expire(): void {
    const cutoff = this.now() - PART_TIMEOUT_MS;
    for (const [key, entry] of this.pending) if (entry.at < cutoff) this.pending.delete(key);
  }
}

function isEnvelope(value: unknown): value is { v: number; o: string; g: string } & ({ m: unknown } | Part) {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Whole>;
  return v.v === FORMAT && typeof v.o === 'string' && typeof v.g === 'string';
}

function isPart(part: Part): boolean {
  return (
    Number.isInteger(part.q) &&
    Number.isInteger(part.n) &&
    Number.isInteger(part.i) &&
    part.n > 1 &&
    part.n <= MAX_PARTS &&
    part.i >= 0 &&
    part.i < part.n &&
    typeof part.c === 'string'
  );
}
