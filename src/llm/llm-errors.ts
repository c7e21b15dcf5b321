/** Why a reply could not be produced; the message is stored in stream_exchanges.error. */
export class LlmReplyError extends Error {
  constructor(
    readonly code: 'timeout' | 'upstream_error' | 'stream_cut' | 'tool_rounds',
    message: string,
  ) {
    super(message);
  }
}
