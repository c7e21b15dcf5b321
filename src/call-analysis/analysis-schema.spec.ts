import { analysisSchema, AnalysisValidator } from './analysis-schema';

const SETTINGS = {
  outcomes: ['resolved', 'follow_up'],
  customFields: [
    { name: 'appointment_booked', type: 'boolean' as const },
    { name: 'order_number', type: 'string' as const, description: 'As the caller gave it' },
    { name: 'plan', type: 'enum' as const, values: ['basic', 'gold'] },
  ],
};

describe('analysisSchema', () => {
  it('is a strict-mode schema: every property required, no others, unknown fields nullable', () => {
    const schema = analysisSchema(SETTINGS);
    expect(schema).toMatchObject({
      additionalProperties: false,
      required: ['summary', 'outcome', 'sentiment', 'custom_fields'],
      properties: {
        outcome: { enum: ['resolved', 'follow_up'] },
        sentiment: { enum: ['neutral', 'positive', 'negative'] },
        custom_fields: {
          additionalProperties: false,
          required: ['appointment_booked', 'order_number', 'plan'],
          properties: {
            appointment_booked: { type: ['boolean', 'null'] },
            order_number: { type: ['string', 'null'], description: 'As the caller gave it' },
            plan: { type: ['string', 'null'], enum: ['basic', 'gold', null] },
          },
        },
      },
    });
  });
});

describe('AnalysisValidator', () => {
  const validator = new AnalysisValidator();
  const schema = analysisSchema(SETTINGS);
  const valid = {
    summary: 'Booked.',
    outcome: 'resolved',
    sentiment: 'positive',
    custom_fields: { appointment_booked: true, order_number: null, plan: 'gold' },
  };

  it('returns a valid answer', () => {
    expect(validator.parse(JSON.stringify(valid), schema)).toEqual(valid);
  });

  it('says when the answer is not JSON', () => {
    expect(() => validator.parse('{"summary": "cut', schema)).toThrow(/^model answer is not valid JSON: /);
  });

  it('lists what does not match the schema', () => {
    const answer = { ...valid, outcome: 'won', custom_fields: { ...valid.custom_fields, extra: 1 } };
    expect(() => validator.parse(JSON.stringify(answer), schema)).toThrow(
      /^model answer does not match the schema: .*answer\/outcome must be equal to one of the allowed values.*additional properties/,
    );
  });
});
