import { MAX_STREAM_ID, TRANSCRIPT_ROLES } from './inbound-frames';

/**
 * Hand-written checks of the inbound frames, one per type, applying exactly the rules the
 * DTOs in inbound-frames.ts declare (frame-guards.spec.ts holds them to that). They replace
 * class-validator on the hot path: no instances, no copies, no allocation when a frame is
 * valid. Each also walks every field outside the protocol for the depth limit, so a valid
 * frame is visited once.
 */

/** Deeper JSON than this is refused: Postgres' jsonb parser has a stack limit too. */
export const MAX_FRAME_DEPTH = 64;

export const DEPTH_PROBLEM = `frame nested deeper than ${MAX_FRAME_DEPTH} levels`;

/**
 * Checks a frame's `data` (depth 2: the frame itself is 1). Returns nothing for a valid
 * one, else what is wrong. The depth walk stops at the first wrong field, so a frame that
 * is also too deep may come back with the field problem: the caller checks depth on failure.
 */
export type FrameGuard = (data: Record<string, unknown>) => string | undefined;

/** The guard of a frame type (INBOUND_FRAME_TYPES), or undefined for any other name, `toString` included. */
export function guardFor(type: string): FrameGuard | undefined {
  switch (type) {
    case 'start_call':
      return checkStartCall;
    case 'stream_request':
      return checkStreamRequest;
    case 'partial_transcript':
      return checkPartialTranscript;
    case 'playback_finished':
      return checkPlaybackFinished;
    case 'interrupt':
      return checkInterrupt;
    default:
      return undefined;
  }
}

/** Whether `value`, found at `depth`, is or holds an object or array deeper than MAX_FRAME_DEPTH. */
export function nestsTooDeep(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (depth > MAX_FRAME_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (nestsTooDeep(value[i], depth + 1)) return true;
    return false;
  }
  // for-in rather than Object.values: no array per object. JSON.parse makes own "__proto__"
  // keys, which shadow the accessor, so value[key] reads the data.
  for (const key in value) if (nestsTooDeep((value as Record<string, unknown>)[key], depth + 1)) return true;
  return false;
}

/** The fields of `object` (at `depth`) other than `skip` (checked by the caller) nest too deep. */
export function fieldsNestTooDeep(object: Record<string, unknown>, depth: number, skip?: string): boolean {
  for (const key in object) {
    if (key !== skip && nestsTooDeep(object[key], depth + 1)) return true;
  }
  return false;
}

function checkStartCall(data: Record<string, unknown>): string | undefined {
  let problems = streamIdProblem(data.stream_id);
  if (!isNonEmptyString(data.agent_id)) problems = addProblem(problems, 'agent_id must be a non-empty string');
  if (!isNonEmptyString(data.session_id)) problems = addProblem(problems, 'session_id must be a non-empty string');
  const callSid = data.call_sid;
  if (callSid != null && typeof callSid !== 'string')
    problems = addProblem(problems, 'call_sid must be a string or null');
  const metadata = data.metadata;
  if (metadata != null && !isObject(metadata)) problems = addProblem(problems, 'metadata must be an object or null');
  const voip = data.voip;
  if (voip != null) {
    if (!isObject(voip)) {
      problems = addProblem(problems, 'voip must be an object or null');
    } else {
      if (typeof voip.from !== 'string') problems = addProblem(problems, 'voip.from must be a string');
      if (typeof voip.to !== 'string') problems = addProblem(problems, 'voip.to must be a string');
    }
  }
  // metadata and voip are walked here with every other field.
  if (problems === undefined && fieldsNestTooDeep(data, 2)) return DEPTH_PROBLEM;
  return problems;
}

function checkStreamRequest(data: Record<string, unknown>): string | undefined {
  let problems = streamIdProblem(data.stream_id);
  const transcript = data.transcript;
  if (!Array.isArray(transcript)) {
    problems = addProblem(problems, 'transcript must be an array');
  } else {
    for (let i = 0; i < transcript.length; i++) {
      const entry: unknown = transcript[i];
      if (!isObject(entry)) {
        problems = addProblem(problems, `transcript.${i} must be an object`);
        continue;
      }
      if (!isRole(entry.role)) problems = addProblem(problems, `transcript.${i}.role must be one of: ${ROLE_LIST}`);
      if (typeof entry.content !== 'string')
        problems = addProblem(problems, `transcript.${i}.content must be a string`);
      // data 2, transcript 3, entry 4.
      if (problems === undefined && fieldsNestTooDeep(entry, 4)) return DEPTH_PROBLEM;
    }
  }
  // The transcript's entries were walked above.
  if (problems === undefined && fieldsNestTooDeep(data, 2, 'transcript')) return DEPTH_PROBLEM;
  return problems;
}

function checkPartialTranscript(data: Record<string, unknown>): string | undefined {
  let problems = optionalStringProblem(data.session_id, 'session_id');
  if (typeof data.transcript !== 'string') problems = addProblem(problems, 'transcript must be a string');
  if (typeof data.is_final !== 'boolean') problems = addProblem(problems, 'is_final must be a boolean');
  if (problems === undefined && fieldsNestTooDeep(data, 2)) return DEPTH_PROBLEM;
  return problems;
}

function checkPlaybackFinished(data: Record<string, unknown>): string | undefined {
  let problems = optionalStringProblem(data.session_id, 'session_id');
  const streamId = streamIdProblem(data.stream_id);
  if (streamId !== undefined) problems = addProblem(problems, streamId);
  if (problems === undefined && fieldsNestTooDeep(data, 2)) return DEPTH_PROBLEM;
  return problems;
}

function checkInterrupt(data: Record<string, unknown>): string | undefined {
  const problems = streamIdProblem(data.stream_id);
  if (problems === undefined && fieldsNestTooDeep(data, 2)) return DEPTH_PROBLEM;
  return problems;
}

/** IsInt, Min(0), Max(MAX_STREAM_ID). */
function streamIdProblem(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_STREAM_ID
    ? undefined
    : STREAM_ID_PROBLEM;
}

const STREAM_ID_PROBLEM = `stream_id must be an integer from 0 to ${MAX_STREAM_ID}`;

/** IsOptional, IsString: class-validator's IsOptional lets null through as well as a missing field. */
function optionalStringProblem(value: unknown, field: string): string | undefined {
  return value == null || typeof value === 'string' ? undefined : `${field} must be a string`;
}

/** IsString, IsNotEmpty. */
function isNonEmptyString(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

/** class-validator's IsObject, for JSON values (which are never functions). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ROLE_LIST = TRANSCRIPT_ROLES.join(', ');

/** IsIn(TRANSCRIPT_ROLES). */
function isRole(value: unknown): boolean {
  return (TRANSCRIPT_ROLES as readonly unknown[]).includes(value);
}

/** Past this the detail says no more: a frame of a thousand bad entries needs no thousand lines. */
const MAX_DETAIL_CHARS = 512;

function addProblem(problems: string | undefined, problem: string): string {
  if (problems === undefined) return problem;
  if (problems.length >= MAX_DETAIL_CHARS) return problems.endsWith('; …') ? problems : `${problems}; …`;
  return `${problems}; ${problem}`;
}
