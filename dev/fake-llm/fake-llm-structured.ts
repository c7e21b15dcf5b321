import type { ChatMessage, ChatRequestBody } from './fake-llm-request';

/**
 * Answers to structured requests (`response_format: { type: 'json_schema', ... }`): a JSON
 * object valid for the request's schema, derived from what the user messages say, the same
 * every time:
 *
 * - an enum: the first value a word of the conversation names (`follow_up` matches "follow up"),
 *   else the first value that is not null;
 * - a boolean: true when the conversation says the first word of its name (`appointment_booked`
 *   is true when "appointment" is said);
 * - a number: the number said after the words of its name ("order number 42"), else the first
 *   number said, else 0;
 * - a string: `summary` retells the start of the conversation; another takes the word said after
 *   the words of its name ("order number A-17" gives "A-17"), else the first word said;
 * - an object: every property; an array: empty.
 *
 * Controls, anywhere in a user message: `[fake:invalid_json]` answers text that is not JSON,
 * `[fake:schema_mismatch]` answers JSON that does not match the schema.
 */

type Schema = Record<string, unknown>;

export const INVALID_JSON_ANSWER = '{"summary": "The caller asked about';
export const SCHEMA_MISMATCH_ANSWER = '{"summary": 42}';

/** The JSON text to answer with, or undefined when the request asks for no JSON schema. */
export function structuredReply(body: ChatRequestBody): string | undefined {
  const schema = requestedSchema(body);
  if (!schema) return undefined;
  const said = userText(body);
  if (/\[fake:invalid_json\]/i.test(said)) return INVALID_JSON_ANSWER;
  if (/\[fake:schema_mismatch\]/i.test(said)) return SCHEMA_MISMATCH_ANSWER;
  // A heading line ("Transcript of the call ...:") and speaker labels ("Caller: ") are not what anyone said.
  const lines = said
    .split('\n')
    .filter((line) => !line.trim().endsWith(':'))
    .map((line) => line.replace(/^\s*[\p{L}]+:\s/u, ''));
  const text = lines.join('\n').replace(/\[fake:[^\]]*\]/gi, ' ');
  return JSON.stringify(valueFor('', schema, conversationOf(text)));
}

function requestedSchema(body: ChatRequestBody): Schema | undefined {
  const format = body.response_format;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.json_schema)) return undefined;
  const schema = format.json_schema.schema;
  return isObject(schema) ? schema : undefined;
}

interface Conversation {
  text: string;
  /** Lower-case words, in order. */
  words: string[];
}

function conversationOf(text: string): Conversation {
  return {
    text: text.replace(/\s+/g, ' ').trim(),
    words: text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [],
  };
}

function userText(body: ChatRequestBody): string {
  const messages: ChatMessage[] = Array.isArray(body.messages) ? body.messages : [];
  return messages
    .filter((m) => m.role === 'user')
    .map((m) => (typeof m.content === 'string' ? m.content : ''))
    .join('\n');
}

function valueFor(name: string, schema: Schema, said: Conversation): unknown {
  if (Array.isArray(schema.enum)) return enumValue(schema.enum, said);
  const types: unknown[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => t !== 'null');
  switch (type) {
    case 'object': {
      const properties = isObject(schema.properties) ? schema.properties : {};
      return Object.fromEntries(
        Object.entries(properties).map(([key, sub]) => [key, valueFor(key, isObject(sub) ? sub : {}, said)]),
      );
    }
    case 'array':
      return [];
    case 'boolean':
      return said.words.includes(name.split('_')[0]);
    case 'number':
    case 'integer': {
      const after = wordAfter(name, said);
      const number = after !== undefined && /^-?\d+(\.\d+)?$/.test(after) ? after : said.words.find(isNumber);
      return number === undefined ? 0 : type === 'integer' ? Math.trunc(Number(number)) : Number(number);
    }
    case 'string':
      if (name === 'summary') return `The caller said: ${said.words.slice(0, 20).join(' ') || 'nothing'}.`;
      return wordAfter(name, said) ?? said.words[0] ?? '';
    default:
      return null;
  }
}

function enumValue(values: unknown[], said: Conversation): unknown {
  const choices = values.filter((v) => v !== null);
  const spoken = ` ${said.words.join(' ')} `;
  const named = choices.find(
    (v) => typeof v === 'string' && spoken.includes(` ${v.toLowerCase().replace(/_/g, ' ')} `),
  );
  return named ?? choices[0] ?? null;
}

/** The word said right after the words of `name` (order_number: "... order number 42 ..." gives 42). */
function wordAfter(name: string, said: Conversation): string | undefined {
  const parts = name.toLowerCase().split('_').filter(Boolean);
  if (!parts.length) return undefined;
  for (let i = 0; i + parts.length < said.words.length; i++) {
    if (parts.every((part, j) => said.words[i + j] === part)) return said.words[i + parts.length];
  }
  return undefined;
}

function isNumber(word: string): boolean {
  return /^-?\d+(\.\d+)?$/.test(word);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
