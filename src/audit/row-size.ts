/**
 * About how many characters `value` takes as JSON: what a queued row costs in memory
 * and in a statement's parameter. Walks the value with its own stack, so a deeply
 * nested payload cannot overflow the call stack, and visits each object once, so a
 * cycle cannot loop (JSON.stringify refuses both; the writer then dead-letters the row).
 */
export function estimateJsonBytes(value: unknown): number {
  let bytes = 0;
  const pending: unknown[] = [value];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const next = pending.pop();
    switch (typeof next) {
      case 'string':
        bytes += next.length + 2;
        break;
      case 'number':
      case 'bigint':
        bytes += 8;
        break;
      case 'boolean':
        bytes += 5;
        break;
      case 'object':
        if (next === null) {
          bytes += 4;
        } else if (!seen.has(next)) {
          seen.add(next);
          bytes += 2;
          if (Array.isArray(next)) {
            bytes += next.length;
            for (const item of next) pending.push(item);
          } else {
            for (const key of Object.keys(next)) {
              bytes += key.length + 4;
              pending.push((next as Record<string, unknown>)[key]);
            }
          }
        }
        break;
      default:
        break;
    }
  }
  return bytes;
}
