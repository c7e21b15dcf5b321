import Ajv, { type ValidateFunction } from 'ajv';
import type { AnalysisField, AnalysisSettings } from '../agents/agent-analysis';
import { SENTIMENTS, type Sentiment } from '../call-records/call-analysis.types';

/** The name the schema goes by in the request (response_format.json_schema.name). */
export const ANALYSIS_SCHEMA_NAME = 'call_analysis';

/** Neutral first: the value a model (or the fake) leans to when the call gives no sign. */
const SENTIMENT_CHOICES: readonly Sentiment[] = ['neutral', ...SENTIMENTS.filter((s) => s !== 'neutral')];

export type JsonSchema = Record<string, unknown>;

/** The answer once validated against the schema built from the same settings. */
export interface AnalysisAnswer {
  summary: string;
  outcome: string;
  sentiment: Sentiment;
  custom_fields: Record<string, unknown>;
}

/**
 * The JSON schema of an analysis of one agent's calls, in the subset OpenAI's strict mode
 * takes: every property required, no others allowed; a field the call does not tell is null.
 * The model is asked for it and its answer is checked against it.
 */
export function analysisSchema(settings: Pick<AnalysisSettings, 'outcomes' | 'customFields'>): JsonSchema {
  const fields = settings.customFields;
  return {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'outcome', 'sentiment', 'custom_fields'],
    properties: {
      summary: { type: 'string', description: 'What the call was about and how it ended, in one to three sentences.' },
      outcome: { type: 'string', enum: [...settings.outcomes], description: 'How the call ended.' },
      sentiment: { type: 'string', enum: [...SENTIMENT_CHOICES], description: "The caller's mood overall." },
      custom_fields: {
        type: 'object',
        additionalProperties: false,
        required: fields.map((f) => f.name),
        properties: Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f)])),
      },
    },
  };
}

function fieldSchema(field: AnalysisField): JsonSchema {
  const description = field.description ? { description: field.description } : {};
  if (field.type === 'enum') return { type: ['string', 'null'], enum: [...(field.values ?? []), null], ...description };
  return { type: [field.type, 'null'], ...description };
}

/** Why a model's answer was refused: the attempt fails and is retried. */
export class AnalysisAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalysisAnswerError';
  }
}

/** Parses and validates answers with ajv; compiled validators are kept per schema. */
export class AnalysisValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  /** The answer, or an AnalysisAnswerError that says what is wrong with it. */
  parse(content: string, schema: JsonSchema): AnalysisAnswer {
    let answer: unknown;
    try {
      answer = JSON.parse(content);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new AnalysisAnswerError(`model answer is not valid JSON: ${reason}`);
    }
    const validate = this.validatorFor(schema);
    if (!validate(answer)) {
      const errors = this.ajv.errorsText(validate.errors, { dataVar: 'answer', separator: '; ' });
      throw new AnalysisAnswerError(`model answer does not match the schema: ${errors}`);
    }
    return answer as AnalysisAnswer;
  }

  private validatorFor(schema: JsonSchema): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      // Agents' settings change rarely; a bound keeps a stream of edits from growing the map.
      if (this.compiled.size >= 200) this.compiled.clear();
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}
