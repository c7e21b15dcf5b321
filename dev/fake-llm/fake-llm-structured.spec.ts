import Ajv from 'ajv';
import type { ChatRequestBody } from './fake-llm-request';
import { chooseScenario, RecordedRequest } from './fake-llm-scenario';
import { INVALID_JSON_ANSWER, SCHEMA_MISMATCH_ANSWER, structuredReply } from './fake-llm-structured';

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['summary', 'outcome', 'sentiment', 'custom_fields'],
  properties: {
    summary: { type: 'string' },
    outcome: { type: 'string', enum: ['resolved', 'follow_up', 'transferred'] },
    sentiment: { type: 'string', enum: ['neutral', 'positive', 'negative'] },
    custom_fields: {
      type: 'object',
      additionalProperties: false,
      required: ['appointment_booked', 'order_number', 'party_size', 'plan'],
      properties: {
        appointment_booked: { type: ['boolean', 'null'] },
        order_number: { type: ['string', 'null'] },
        party_size: { type: ['number', 'null'] },
        plan: { type: ['string', 'null'], enum: ['basic', 'gold', null] },
      },
    },
  },
};

function request(said: string, schema: object | null = SCHEMA): ChatRequestBody {
  return {
    model: 'fake-model',
    messages: [
      { role: 'system', content: 'Analyse the call. Fields: appointment_booked, order_number.' },
      { role: 'user', content: `Transcript of the call:\n${said}` },
    ],
    ...(schema ? { response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } } : {}),
  };
}

describe('structuredReply', () => {
  const validate = new Ajv({ allowUnionTypes: true }).compile(SCHEMA);

  it('answers nothing special to a request without a JSON schema', () => {
    expect(structuredReply(request('Caller: hello', null))).toBeUndefined();
    expect(structuredReply({ ...request('hi', null), response_format: { type: 'json_object' } })).toBeUndefined();
  });

  it('derives a schema-valid answer from what was said, the same every time', () => {
    const said =
      'Caller: I want an appointment for party size 4 about order number A-17, gold plan please, follow up later';
    const answer = JSON.parse(structuredReply(request(said))!);
    expect(validate(answer)).toBe(true);
    expect(answer).toEqual({
      summary:
        'The caller said: i want an appointment for party size 4 about order number a-17 gold plan please follow up later.',
      outcome: 'follow_up',
      sentiment: 'neutral',
      custom_fields: { appointment_booked: true, order_number: 'a-17', party_size: 4, plan: 'gold' },
    });
    expect(structuredReply(request(said))).toBe(structuredReply(request(said)));
  });

  it('takes the first value of an enum, false and the first word when nothing is named', () => {
    const answer = JSON.parse(structuredReply(request('Caller: thanks, goodbye'))!);
    expect(validate(answer)).toBe(true);
    expect(answer.outcome).toBe('resolved');
    expect(answer.custom_fields).toEqual({
      appointment_booked: false,
      order_number: 'thanks',
      party_size: 0,
      plan: 'basic',
    });
  });

  it('reads the system message for nothing: field names there do not count as said', () => {
    const answer = JSON.parse(structuredReply(request('Caller: hello'))!);
    expect(answer.custom_fields.appointment_booked).toBe(false);
  });

  it('answers invalid JSON or a schema mismatch when a user message asks for it', () => {
    const invalid = structuredReply(request('Caller: [fake:invalid_json] hello'))!;
    expect(invalid).toBe(INVALID_JSON_ANSWER);
    expect(() => JSON.parse(invalid)).toThrow();
    const mismatch = JSON.parse(structuredReply(request('Caller: [fake:schema_mismatch] hello'))!);
    expect(mismatch).toEqual(JSON.parse(SCHEMA_MISMATCH_ANSWER));
    expect(validate(mismatch)).toBe(false);
  });
});

describe('chooseScenario for a structured request', () => {
  const recorded = (body: ChatRequestBody): RecordedRequest => ({
    id: 'x',
    body,
    headers: {},
    url: '/v1/chat/completions',
    stalled: false,
    receivedAt: 0,
    tokensWritten: 0,
    tokenWrittenAt: [],
    finished: false,
    aborted: false,
  });

  it('answers the schema although the quoted conversation carries a text directive', () => {
    const scenario = chooseScenario(undefined, undefined, recorded(request('Caller: hello [fake:tokens 30]')));
    expect(scenario).toEqual({ kind: 'text' });
  });

  it('still obeys a failure directive, so retries can be tested', () => {
    const scenario = chooseScenario(undefined, undefined, recorded(request('Caller: [fake:error 503 busy] hello')));
    expect(scenario).toMatchObject({ kind: 'error', status: 503 });
  });
});
