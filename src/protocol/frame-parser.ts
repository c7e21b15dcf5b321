import { describeError } from '../common/describe-error';
import { DEPTH_PROBLEM, fieldsNestTooDeep, guardFor, nestsTooDeep } from './frame-guards';
import { isPlainObject } from './frame-instance';
import { InboundFrameType, InvalidFrame, InvalidFrameReason, ParsedFrame } from './inbound-frames';

export { MAX_FRAME_DEPTH } from './frame-guards';

/** How much of an unusable frame we keep for the audit trail. */
export const INVALID_FRAME_PREVIEW_CHARS = 2048;

export interface FrameParserOptions {
  maxFrameBytes: number;
}

type RawFrame = string | Buffer | ArrayBuffer | Buffer[];

/**
 * Turns one WebSocket message into a typed frame or an `invalid` one.
 * Never throws: a bad frame must not reach the socket's error path.
 * A valid frame's `data` is the object JSON.parse made, handed on as is: every field as
 * received, fields outside the protocol and keys like `__proto__` included.
 */
export function parseInboundFrame(raw: RawFrame, options: FrameParserOptions): ParsedFrame {
  if (typeof raw !== 'string') {
    const bytes = byteLength(raw);
    return invalidBytes(
      'binary_frame',
      'binary frames are not part of the protocol',
      bytes,
      `<${bytes} bytes of binary>`,
    );
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so only a long frame needs counting.
  if (raw.length * 3 > options.maxFrameBytes) {
    const bytes = Buffer.byteLength(raw, 'utf8');
    if (bytes > options.maxFrameBytes) {
      return invalidBytes(
        'too_large',
        `frame of ${bytes} bytes exceeds the ${options.maxFrameBytes} byte limit`,
        bytes,
        preview(raw),
      );
    }
  }

  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch (error) {
    return invalid('not_json', describeError(error), raw);
  }
  if (!isPlainObject(message)) {
    return invalid('not_an_object', 'a frame must be a JSON object with a "type"', raw);
  }

  const type = message.type;
  const guard = typeof type === 'string' ? guardFor(type) : undefined;
  if (guard === undefined) {
    const detail = typeof type === 'string' ? `unknown frame type "${type}"` : 'missing string field "type"';
    return invalid('unknown_type', detail, raw, typeof type === 'string' ? type : undefined);
  }
  const frameType = type as InboundFrameType;

  const payload = payloadOf(frameType, message);
  let problem: string | undefined;
  if (!isPlainObject(payload)) problem = 'field "data" must be an object';
  // The guard walks data; the frame's other fields are walked here (frame 1, data 2).
  else problem = guard(payload) ?? (fieldsNestTooDeep(message, 1, 'data') ? DEPTH_PROBLEM : undefined);
  if (problem !== undefined) {
    // The depth limit comes first, as a reason of its own, wherever the frame is too deep.
    return invalid('invalid_fields', nestsTooDeep(message, 1) ? DEPTH_PROBLEM : problem, raw, frameType);
  }
  return { event: frameType, data: payload } as ParsedFrame;
}

/** `interrupt` carries stream_id at the top level in the guide; accept `data.stream_id` too. */
function payloadOf(type: InboundFrameType, message: Record<string, unknown>): unknown {
  if (type === 'interrupt' && message.data === undefined) {
    return { stream_id: message.stream_id };
  }
  return message.data;
}

function invalid(reason: InvalidFrameReason, detail: string, raw: string, frameType?: string): ParsedFrame {
  return invalidBytes(reason, detail, Buffer.byteLength(raw, 'utf8'), preview(raw), frameType);
}

function invalidBytes(
  reason: InvalidFrameReason,
  detail: string,
  bytes: number,
  received: string,
  frameType?: string,
): ParsedFrame {
  const frame: InvalidFrame = { reason, detail, received, bytes };
  if (frameType !== undefined) frame.frameType = frameType;
  return { event: 'invalid', data: frame };
}

function preview(text: string): string {
  return text.length > INVALID_FRAME_PREVIEW_CHARS ? `${text.slice(0, INVALID_FRAME_PREVIEW_CHARS)}…` : text;
}

function byteLength(raw: Buffer | ArrayBuffer | Buffer[]): number {
  if (Array.isArray(raw)) return raw.reduce((sum, part) => sum + part.length, 0);
  return raw.byteLength;
}
