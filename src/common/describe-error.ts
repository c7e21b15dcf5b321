/**
 * A caught value, whatever it is, as one line for a log or a stored reason: an Error's message
 * (its stack with `stack: true`, for failures nobody expected), anything else as text.
 */
export function describeError(error: unknown, { stack = false }: { stack?: boolean } = {}): string {
  if (isError(error)) return (stack ? error.stack : undefined) ?? error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** An Error, also one made in another realm (a vm context; Node's own errors under Jest), where `instanceof` fails. */
function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}
