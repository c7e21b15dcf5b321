import type { RawData } from 'ws';

/** A received `ws` message as text, whichever `binaryType` delivered it (a Buffer by default). */
export function webSocketText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
