/**
 * Frames we send to the Millis platform. A discriminated union so a frame
 * without its stream_id, or with a misspelt type, does not compile.
 */

export interface StreamResponseData {
  stream_id: number;
  content: string;
  end_of_stream: boolean;
  /** Speak what is buffered now instead of waiting for a sentence end. */
  flush?: boolean;
  /** Silence in milliseconds after this piece. */
  pause?: number;
}

export interface StreamResponseFrame {
  type: 'stream_response';
  data: StreamResponseData;
}

export interface EndCallFrame {
  type: 'end_call';
  data: { stream_id: number };
}

export interface TransferCallFrame {
  type: 'transfer_call';
  data: { stream_id: number; destination: string };
}

export type OutboundFrame = StreamResponseFrame | EndCallFrame | TransferCallFrame;

export function streamResponse(data: StreamResponseData): StreamResponseFrame {
  return { type: 'stream_response', data };
}

export function endCall(streamId: number): EndCallFrame {
  return { type: 'end_call', data: { stream_id: streamId } };
}

export function transferCall(streamId: number, destination: string): TransferCallFrame {
  return { type: 'transfer_call', data: { stream_id: streamId, destination } };
}

export function serializeFrame(frame: OutboundFrame): string {
  return JSON.stringify(frame);
}

/**
 * A stream_response frame as text, written directly: byte for byte what
 * `serializeFrame(streamResponse({ stream_id, content, end_of_stream, flush, pause }))` gives
 * (fields in that order, flush and pause left out when undefined), without building the two
 * objects for every piece of a reply.
 */
export function serializeStreamResponse(
  streamId: number,
  content: string,
  endOfStream: boolean,
  flush?: boolean,
  pause?: number,
): string {
  let text = `{"type":"stream_response","data":{"stream_id":${jsonNumber(streamId)},"content":${JSON.stringify(content)},"end_of_stream":${endOfStream}`;
  if (flush !== undefined) text += `,"flush":${flush}`;
  if (pause !== undefined) text += `,"pause":${jsonNumber(pause)}`;
  return `${text}}}`;
}

/** JSON.stringify's number: NaN and the infinities are null. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? `${value}` : 'null';
}
