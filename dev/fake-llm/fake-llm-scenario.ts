import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { conversationReply } from './fake-llm-conversation';
import { structuredReply } from './fake-llm-structured';
import { DIALECTS, type DialectTraits, type FakeDialect } from './fake-llm-dialects';
import type { ChatMessage, ChatRequestBody } from './fake-llm-request';

/** Per-scenario overrides of the server-wide delays. */
export interface ScenarioTiming {
  firstTokenDelayMs?: number;
  tokenDelayMs?: number;
}

/** What a reasoning dialect thinks aloud before answering (never to be spoken); '' = no thinking. */
export interface ReasoningScenario {
  reasoning?: string;
}

export interface TextScenario extends ScenarioTiming, ReasoningScenario {
  kind: 'text';
  text?: string;
  tokens?: string[];
  tokenCount?: number;
}

export interface FakeToolCall {
  name: string;
  arguments: object | string;
}

export interface ToolCallsScenario extends ScenarioTiming, ReasoningScenario {
  kind: 'tool_calls';
  calls: FakeToolCall[];
  text?: string;
}

export interface ErrorScenario extends ScenarioTiming {
  kind: 'error';
  status: number;
  message?: string;
  /** retry-after in seconds; a 429 says 1 unless told otherwise. */
  retryAfterS?: number;
}

export interface CutScenario extends ScenarioTiming {
  kind: 'cut';
  afterTokens: number;
  text?: string;
}

export interface HangScenario extends ScenarioTiming {
  kind: 'hang';
  afterTokens?: number;
}

export type FakeScenario = TextScenario | ToolCallsScenario | ErrorScenario | CutScenario | HangScenario;

/**
 * What a reply says when no scenario brings its own text: `echo` repeats the caller's
 * last words (tests assert on it), `conversation` answers like a support line.
 */
export type ReplyStyle = 'echo' | 'conversation';

export interface FakeLlmOptions {
  firstTokenDelayMs: number;
  tokenDelayMs: number;
  /** How the stream is written (see fake-llm-dialects.ts). */
  dialect: FakeDialect;
  /** Share (0 to 1) of requests whose first token never comes, spread evenly: a provider that stalls. */
  stallFirstTokens: number;
  /** Fixed text of every default reply; when undefined, `replyStyle` decides. */
  defaultReply: string | undefined;
  replyStyle: ReplyStyle;
  port: number;
  host: string;
}

/** Fast and predictable, for tests; the CLI sets a human pace and conversational replies. */
export const DEFAULT_OPTIONS: FakeLlmOptions = {
  firstTokenDelayMs: 20,
  tokenDelayMs: 5,
  dialect: 'openai',
  stallFirstTokens: 0,
  defaultReply: undefined,
  replyStyle: 'echo',
  port: 0,
  host: '127.0.0.1',
};

export interface RecordedRequest {
  /** The completion id the server answered with. */
  id: string;
  body: ChatRequestBody;
  headers: IncomingHttpHeaders;
  /** Path and query as requested (e.g. Azure's /openai/deployments/NAME/chat/completions?api-version=...). */
  url: string;
  /** Azure's deployment, from the path. */
  deployment?: string;
  /** Its first token was held back for good (stallFirstTokens). */
  stalled: boolean;
  /** performance.now() timestamps, in ms. */
  receivedAt: number;
  /** When the first content or tool-call delta was written. */
  firstTokenWrittenAt?: number;
  /** Content chunks written (tool-call deltas are not counted). */
  tokensWritten: number;
  tokenWrittenAt: number[];
  /** Wrote [DONE] or the full non-streaming body. */
  finished: boolean;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
}

/** What `GET /__timings` answers: token write times as epoch milliseconds. */
export interface FakeTimings {
  requests: Array<{
    user: string;
    receivedAt: number;
    firstTokenWrittenAt: number | null;
    tokenWrittenAt: number[];
    finished: boolean;
    aborted: boolean;
    stalled: boolean;
  }>;
}

export type FakeResponder = (req: RecordedRequest) => FakeScenario | undefined;

export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null };
}

/**
 * One delta chunk of the stream, in the order it is written. A tool step carries its call's
 * id and name whatever the dialect; `first` marks the piece that opens the call.
 */
export type StreamStep =
  | { type: 'content'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool'; index: number; id: string; name: string; arguments: string; first: boolean };

export type ResponsePlan =
  | { kind: 'error'; status: number; body: OpenAiErrorBody; headers: Record<string, string> }
  | {
      kind: 'reply';
      steps: StreamStep[];
      /** cut: drop the connection after the steps; hang: go silent after them. */
      ending: 'finish' | 'cut' | 'hang';
      /** length: the reply reached the request's max_tokens and was cut there. */
      finishReason: 'stop' | 'tool_calls' | 'length';
      firstTokenDelayMs: number;
      tokenDelayMs: number;
    };

/** What a reasoning dialect thinks before it answers, unless the scenario says otherwise. */
export const DEFAULT_REASONING = 'The caller asked something; a short friendly answer will do.';

/**
 * Splits text into word-ish tokens that keep their leading whitespace, so
 * joining the tokens gives back the exact input.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = text.match(/\s*(?:[.,!?;:]|[^\s.,!?;:]+)/g) ?? [];
  const consumed = tokens.join('').length;
  // Only trailing whitespace can be left unmatched.
  if (consumed < text.length) {
    const rest = text.slice(consumed);
    if (tokens.length > 0) tokens[tokens.length - 1] += rest;
    else tokens.push(rest);
  }
  return tokens;
}

/** `count` tokens like "word1 ", "word2 ", ... */
export function wordTokens(count: number, from = 1): string[] {
  return Array.from({ length: Math.max(0, count) }, (_, i) => `word${from + i} `);
}

/** Text of a message whose content is a string or an array of content parts. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
        ? (part as { text: string }).text
        : '',
    )
    .join(' ');
}

export function lastUserText(body: ChatRequestBody): string | undefined {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') return messageText(messages[i]);
  }
  return undefined;
}

/** Rough prompt size: whitespace-separated words across all messages. */
export function countPromptTokens(body: ChatRequestBody): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return messages.reduce((sum, m) => sum + (messageText(m).match(/\S+/g)?.length ?? 0), 0);
}

interface Directive {
  name: string;
  arg: string;
  start: number;
  end: number;
}

/** Finds `[fake:name arg]` markers; tool arguments may hold JSON containing `]`. */
function findDirectives(text: string): Directive[] {
  const found: Directive[] = [];
  const starts = /\[fake:([a-z_]+)/gi;
  let match: RegExpExecArray | null;
  while ((match = starts.exec(text))) {
    const start = match.index;
    const argStart = start + match[0].length;
    const end = directiveEnd(text, argStart, match[1].toLowerCase() === 'tool');
    if (end < 0) continue;
    found.push({ name: match[1].toLowerCase(), arg: text.slice(argStart, end - 1).trim(), start, end });
    starts.lastIndex = end;
  }
  return found;
}

/** Index just past the closing `]`, or -1 when the directive is not closed. */
function directiveEnd(text: string, from: number, jsonAware: boolean): number {
  if (jsonAware) {
    const brace = text.indexOf('{', from);
    const close = text.indexOf(']', from);
    if (brace >= 0 && (close < 0 || brace < close)) {
      // Try each "}]" until the braces hold valid JSON.
      for (let i = text.indexOf('}', brace); i >= 0; i = text.indexOf('}', i + 1)) {
        const after = text.slice(i + 1).match(/^\s*\]/);
        if (!after) continue;
        try {
          JSON.parse(text.slice(brace, i + 1));
          return i + 1 + after[0].length;
        } catch {
          // keep looking for a later closing brace
        }
      }
    }
  }
  const close = text.indexOf(']', from);
  return close < 0 ? -1 : close + 1;
}

export function stripDirectives(text: string): string {
  let out = '';
  let pos = 0;
  for (const d of findDirectives(text)) {
    out += text.slice(pos, d.start);
    pos = d.end;
  }
  return (out + text.slice(pos)).replace(/\s{2,}/g, ' ').trim();
}

function toolFromArg(arg: string): FakeToolCall {
  const [, name = 'tool', json = ''] = arg.match(/^(\S+)\s*([\s\S]*)$/) ?? [];
  if (!json) return { name, arguments: {} };
  try {
    return { name, arguments: JSON.parse(json) as object };
  } catch {
    return { name, arguments: json };
  }
}

/**
 * Scenario picked by markers in the last user message, so clients that only
 * speak HTTP can steer the fake. Precedence: error, hang, cut, tool, tokens.
 */
export function parseDirective(text: string | undefined): FakeScenario | undefined {
  if (!text) return undefined;
  const directives = findDirectives(text);
  const first = (name: string) => directives.find((d) => d.name === name);
  const int = (value: string | undefined, fallback: number) => {
    const n = Number.parseInt(value ?? '', 10);
    return Number.isFinite(n) ? n : fallback;
  };

  const error = first('error');
  if (error) {
    const [, status, message] = error.arg.match(/^(\d+)?\s*([\s\S]*)$/) ?? [];
    return { kind: 'error', status: int(status, 500), message: message || undefined };
  }
  const hang = first('hang');
  if (hang) return { kind: 'hang', afterTokens: int(hang.arg, 0) };
  const cut = first('cut');
  if (cut) return { kind: 'cut', afterTokens: int(cut.arg, 0) };
  const tools = directives.filter((d) => d.name === 'tool');
  if (tools.length > 0) return { kind: 'tool_calls', calls: tools.map((d) => toolFromArg(d.arg)) };
  const tokens = first('tokens');
  if (tokens) return { kind: 'text', tokenCount: int(tokens.arg, 0) };
  return undefined;
}

/** Reply used when a scenario does not bring its own text. */
export function defaultReplyText(
  body: ChatRequestBody,
  options: Pick<FakeLlmOptions, 'defaultReply' | 'replyStyle'>,
): string {
  // A request for JSON of a schema gets JSON of that schema, whatever the reply style.
  const structured = structuredReply(body);
  if (structured !== undefined) return structured;
  if (options.defaultReply !== undefined) return options.defaultReply;
  const said = lastUserText(body);
  const stripped = said === undefined ? '' : stripDirectives(said);
  if (options.replyStyle === 'conversation') return conversationReply(body, stripped);
  return stripped ? `You said: ${stripped}.` : 'Hello! How can I help you today?';
}

/** Queue first, then the responder, then in-band directives, then the default text. */
export function chooseScenario(
  queued: FakeScenario | undefined,
  responder: FakeResponder | undefined,
  request: RecordedRequest,
): FakeScenario {
  const directive = parseDirective(lastUserText(request.body));
  // A structured request (a post-call analysis) quotes the conversation: the conversation's own text and tool
  // directives are not for it (failure directives still apply, to test the analysis' retries).
  const quoted =
    structuredReply(request.body) !== undefined && (directive?.kind === 'text' || directive?.kind === 'tool_calls');
  return queued ?? responder?.(request) ?? (quoted ? undefined : directive) ?? { kind: 'text' };
}

/** Splits a JSON string into 2-4 pieces so clients have to reassemble it. */
export function splitArguments(json: string): string[] {
  const pieces = Math.min(json.length, Math.max(2, Math.min(4, Math.ceil(json.length / 8))));
  if (pieces <= 1) return [json];
  const size = Math.ceil(json.length / pieces);
  const out: string[] = [];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out;
}

export function randomId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('hex')}`;
}

const ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['invalid_request_error', 'unsupported_country_region_territory'],
  404: ['invalid_request_error', 'not_found'],
  429: ['requests', 'rate_limit_exceeded'],
};

export function errorBody(status: number, message?: string): OpenAiErrorBody {
  const fallback: [string, null] = [status >= 500 ? 'server_error' : 'invalid_request_error', null];
  const [type, code] = ERROR_TYPES[status] ?? fallback;
  return { error: { message: message ?? `Fake LLM error ${status}`, type, code } };
}

/** Turns a scenario into the exact sequence of deltas and how the response ends, in the dialect's ways. */
export function planResponse(
  scenario: FakeScenario,
  body: ChatRequestBody,
  options: Pick<FakeLlmOptions, 'firstTokenDelayMs' | 'tokenDelayMs' | 'defaultReply' | 'replyStyle'> &
    Partial<Pick<FakeLlmOptions, 'dialect'>>,
): ResponsePlan {
  const traits = DIALECTS[options.dialect ?? 'openai'];
  if (scenario.kind === 'error') {
    const headers: Record<string, string> = {};
    const retryAfterS = scenario.retryAfterS ?? (scenario.status === 429 ? 1 : undefined);
    if (retryAfterS !== undefined) {
      headers['retry-after'] = String(retryAfterS);
      if (traits.retryAfterMs) headers['retry-after-ms'] = String(retryAfterS * 1000);
    }
    return { kind: 'error', status: scenario.status, body: errorBody(scenario.status, scenario.message), headers };
  }
  const timing = {
    firstTokenDelayMs: scenario.firstTokenDelayMs ?? options.firstTokenDelayMs,
    tokenDelayMs: scenario.tokenDelayMs ?? options.tokenDelayMs,
  };
  const content = (tokens: string[]): StreamStep[] => tokens.map((text) => ({ type: 'content', text }));
  const reply = (text: string | undefined) => tokenize(text ?? defaultReplyText(body, options));
  const thinking = (reasoning: string | undefined): StreamStep[] =>
    traits.reasoningField && reasoning !== ''
      ? tokenize(reasoning ?? DEFAULT_REASONING).map((text) => ({ type: 'reasoning', text }))
      : [];

  switch (scenario.kind) {
    case 'text': {
      let tokens =
        scenario.tokens ?? (scenario.tokenCount !== undefined ? wordTokens(scenario.tokenCount) : reply(scenario.text));
      // A reply longer than the request allows stops there, as a provider's does.
      const limit = body.max_completion_tokens ?? body.max_tokens;
      const truncated = typeof limit === 'number' && limit >= 0 && tokens.length > limit;
      if (truncated) tokens = tokens.slice(0, limit);
      const steps = [...thinking(scenario.reasoning), ...content(tokens)];
      return { kind: 'reply', steps, ending: 'finish', finishReason: truncated ? 'length' : 'stop', ...timing };
    }
    case 'tool_calls': {
      const steps = [...thinking(scenario.reasoning), ...content(scenario.text ? tokenize(scenario.text) : [])];
      steps.push(...toolSteps(scenario.calls, traits));
      return { kind: 'reply', steps, ending: 'finish', finishReason: 'tool_calls', ...timing };
    }
    case 'cut':
    case 'hang': {
      const count = Math.max(0, scenario.afterTokens ?? 0);
      const tokens = reply(scenario.kind === 'cut' ? scenario.text : undefined);
      // Pad short replies so the stream really stops mid-answer.
      const padded = tokens.length > count ? tokens : [...tokens, ...wordTokens(count + 1 - tokens.length)];
      return {
        kind: 'reply',
        steps: content(padded.slice(0, count)),
        ending: scenario.kind,
        finishReason: 'stop',
        ...timing,
      };
    }
  }
}

/** Each call as pieces (its head, then its arguments in 2-4 pieces) or whole, one call after the other or interleaved. */
function toolSteps(calls: FakeToolCall[], traits: DialectTraits): StreamStep[] {
  const whole = traits.toolCalls.startsWith('whole');
  const perCall = calls.map((call, index): StreamStep[] => {
    const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
    const id = randomId('call_');
    if (whole) return [{ type: 'tool', index, id, name: call.name, arguments: args, first: true }];
    return [
      { type: 'tool', index, id, name: call.name, arguments: '', first: true },
      ...splitArguments(args).map((piece): StreamStep => ({
        type: 'tool',
        index,
        id,
        name: call.name,
        arguments: piece,
        first: false,
      })),
    ];
  });
  if (!traits.interleaveToolCalls) return perCall.flat();
  const steps: StreamStep[] = [];
  for (let i = 0; perCall.some((pieces) => i < pieces.length); i++)
    for (const pieces of perCall) if (i < pieces.length) steps.push(pieces[i]);
  return steps;
}
