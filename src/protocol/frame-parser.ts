import { validateSync, ValidationError } from 'class-validator';
import {
  INBOUND_FRAME_DTOS,
  InboundFrameType,
  InvalidFrame,
  InvalidFrameReason,
  ParsedFrame,
} from './inbound-frames';
import { adoptFrame, isPlainObject, toFrameInstance } from './frame-instance';

/** How much of an unusable frame we keep for the audit trail. */
export const INVALID_FRAME_PREVIEW_CHARS = 2048;
/** Deeper JSON than this is refused: Postgres' jsonb parser has a stack limit too. */
export const MAX_FRAME_DEPTH = 64;

export interface FrameParserOptions {
  maxFrameBytes: number;
}

type RawFrame = string | Buffer | ArrayBuffer | Buffer[];

/**
 * Turns one WebSocket message into a typed frame or an `invalid` one.
 * Never throws: a bad frame must not reach the socket's error path.
 */
export function parseInboundFrame(raw: RawFrame, options: FrameParserOptions): ParsedFrame {
  if (typeof raw !== 'string') {
    const bytes = byteLength(raw);
    return invalid('binary_frame', 'binary frames are not part of the protocol', bytes, `<${bytes} bytes of binary>`);
  }
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > options.maxFrameBytes) {
    return invalid('too_large', `frame of ${bytes} bytes exceeds the ${options.maxFrameBytes} byte limit`, bytes, preview(raw));
  }

  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch (error) {
    return invalid('not_json', (error as Error).message, bytes, preview(raw));
  }
  if (!isPlainObject(message)) {
    return invalid('not_an_object', 'a frame must be a JSON object with a "type"', bytes, preview(raw));
  }

  const type = message.type;
  if (typeof type !== 'string' || !Object.hasOwn(INBOUND_FRAME_DTOS, type)) {
    const detail = typeof type === 'string' ? `unknown frame type "${type}"` : 'missing string field "type"';
    return invalid('unknown_type', detail, bytes, preview(raw), typeof type === 'string' ? type : undefined);
  }
  const frameType = type as InboundFrameType;

  if (depthExceeds(message, MAX_FRAME_DEPTH)) {
    return invalid('invalid_fields', `frame nested deeper than ${MAX_FRAME_DEPTH} levels`, bytes, preview(raw), frameType);
  }

  const payload = payloadOf(frameType, message);
  if (!isPlainObject(payload)) {
    return invalid('invalid_fields', 'field "data" must be an object', bytes, preview(raw), frameType);
  }
  const frameClass = INBOUND_FRAME_DTOS[frameType] as new () => object;
  const errors = validateSync(toFrameInstance(frameClass, payload), { forbidUnknownValues: true });
  if (errors.length > 0) {
    return invalid('invalid_fields', describeErrors(errors), bytes, preview(raw), frameType);
  }
  return { event: frameType, data: adoptFrame(frameClass, payload) } as ParsedFrame;
}

/** `interrupt` carries stream_id at the top level in the guide; accept `data.stream_id` too. */
function payloadOf(type: InboundFrameType, message: Record<string, unknown>): unknown {
  if (type === 'interrupt' && message.data === undefined) {
    return { stream_id: message.stream_id };
  }
  return message.data;
}

function invalid(
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

function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

function describeErrors(errors: ValidationError[], parent = ''): string {
  const messages: string[] = [];
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) messages.push(...Object.values(error.constraints).map((m) => m.replace(error.property, path)));
    if (error.children?.length) messages.push(describeErrors(error.children, path));
  }
  return messages.join('; ');
}
