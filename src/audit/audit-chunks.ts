import type { QueuedRow } from './audit-queue';

/**
 * Splits rows into statements of at most `maxRows` rows and `maxBytes` estimated bytes,
 * in order. A row larger than `maxBytes` goes alone: Postgres decides whether it fits.
 */
export function splitIntoChunks<T>(
  rows: Array<QueuedRow<T>>,
  maxRows: number,
  maxBytes: number,
): Array<Array<QueuedRow<T>>> {
  const chunks: Array<Array<QueuedRow<T>>> = [];
  let chunk: Array<QueuedRow<T>> = [];
  let bytes = 0;
  for (const queued of rows) {
    if (chunk.length > 0 && (chunk.length >= maxRows || bytes + queued.bytes > maxBytes)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(queued);
    bytes += queued.bytes;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
