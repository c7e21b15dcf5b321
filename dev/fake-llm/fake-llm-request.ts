/** The chat completion request as the fake reads it. */

export interface ChatMessage {
  role: string;
  content?: unknown;
  [key: string]: unknown;
}

/** Only the fields the fake looks at; everything else is kept as sent. */
export interface ChatRequestBody {
  model?: string;
  messages?: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  /** Structured outputs: `{ type: 'json_schema', json_schema: { name, schema, strict } }` (see fake-llm-structured.ts). */
  response_format?: unknown;
  [key: string]: unknown;
}
