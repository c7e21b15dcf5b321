import { describeError } from '../../src/common/describe-error';
import { ApiError, authHeaders, type LiveEventDto } from './api';
import { signOut } from './session';

export type LiveState =
  { kind: 'connecting' } | { kind: 'open' } | { kind: 'waiting'; retryInMs: number; reason: string };

/**
 * GET /api/live, read with fetch() so the key travels in a header (EventSource cannot send
 * one, and a key in the URL would end up in logs). Reconnects with backoff; each new
 * connection starts with a snapshot. Stops when `signal` aborts.
 */
export function followLiveCalls(
  onEvent: (event: LiveEventDto) => void,
  onState: (state: LiveState) => void,
  signal: AbortSignal,
): void {
  let failures = 0;
  const loop = async () => {
    while (!signal.aborted) {
      onState({ kind: 'connecting' });
      let reason = 'the connection closed';
      try {
        const response = await fetch('/api/live', {
          headers: authHeaders('text/event-stream'),
          signal,
          cache: 'no-store',
        });
        if (response.status === 401) {
          signOut();
          return;
        }
        if (!response.ok || !response.body) throw new ApiError(response.status, response.statusText);
        onState({ kind: 'open' });
        failures = 0;
        await readEvents(response.body, onEvent);
      } catch (error) {
        if (signal.aborted) return;
        reason = describeError(error) || reason;
      }
      failures++;
      const retryInMs = Math.min(10_000, 500 * 2 ** Math.min(failures, 5));
      onState({ kind: 'waiting', retryInMs, reason });
      await new Promise((resolve) => window.setTimeout(resolve, retryInMs));
    }
  };
  void loop();
}

/** Minimal text/event-stream parser: `event:` and `data:` fields, comments ignored. */
async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (event: LiveEventDto) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const event = parseBlock(block);
      if (event) onEvent(event);
    }
  }
}

function parseBlock(block: string): LiveEventDto | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  try {
    return { type, ...JSON.parse(data.join('\n')) } as LiveEventDto;
  } catch {
    return undefined;
  }
}
