import { AgentsException, AgentsExceptionCode } from './agents.exception';

/**
 * An agent's post-call analysis settings: whether its ended calls are analysed, the outcomes
 * the model chooses from and the fields it fills in. Stored as given (snake_case) in
 * agent_profiles.analysis; merged over the environment's defaults in AgentSettings.
 */

export const ANALYSIS_FIELD_TYPES = ['string', 'number', 'boolean', 'enum'] as const;
export type AnalysisFieldType = (typeof ANALYSIS_FIELD_TYPES)[number];

/** A field the model fills in for each call, e.g. `appointment_booked: boolean`. */
export interface AnalysisField {
  name: string;
  type: AnalysisFieldType;
  description?: string;
  /** enum only: the values the model may choose. */
  values?: string[];
}

/** As stored in agent_profiles.analysis and shown by /api/agents. */
export interface AgentAnalysisProfile {
  /** null = ANALYSIS_ENABLED. */
  enabled: boolean | null;
  /** null = DEFAULT_OUTCOMES. */
  outcomes: string[] | null;
  custom_fields: AnalysisField[];
  /** Added after ANALYSIS_PROMPT. */
  instructions: string | null;
}

/** What an analysis of this agent's calls uses. */
export interface AnalysisSettings {
  enabled: boolean;
  outcomes: string[];
  customFields: AnalysisField[];
  instructions: string | null;
}

export const DEFAULT_OUTCOMES = ['resolved', 'follow_up', 'transferred', 'abandoned', 'failed'];

/** Names of outcomes, fields and enum values: they become JSON keys, filter names and SQL-free labels. */
export const ANALYSIS_NAME = /^[a-z][a-z0-9_]{0,39}$/;

export function analysisSettings(
  profile: AgentAnalysisProfile | null | undefined,
  enabledByDefault: boolean,
): AnalysisSettings {
  return {
    enabled: profile?.enabled ?? enabledByDefault,
    outcomes: profile?.outcomes?.length ? profile.outcomes : DEFAULT_OUTCOMES,
    customFields: profile?.custom_fields ?? [],
    instructions: profile?.instructions ?? null,
  };
}

/** The DTO's fields as stored: every key present, copies only (no class instances in jsonb). */
export function analysisProfile(body: {
  enabled?: boolean | null;
  outcomes?: string[] | null;
  custom_fields?: AnalysisField[];
  instructions?: string | null;
}): AgentAnalysisProfile {
  return {
    enabled: body.enabled ?? null,
    outcomes: body.outcomes ? [...body.outcomes] : null,
    custom_fields: (body.custom_fields ?? []).map((f) => ({
      name: f.name,
      type: f.type,
      ...(f.description !== undefined ? { description: f.description } : {}),
      ...(f.values !== undefined ? { values: [...f.values] } : {}),
    })),
    instructions: body.instructions ?? null,
  };
}

/** What class-validator cannot see: repeats, and values on a field that is not an enum. */
export function checkAnalysis(analysis: AgentAnalysisProfile): void {
  const invalid = (message: string) => new AgentsException(AgentsExceptionCode.INVALID_ANALYSIS, message);
  const outcome = repeated(analysis.outcomes ?? []);
  if (outcome !== undefined) throw invalid(`analysis.outcomes: "${outcome}" is listed twice`);
  const name = repeated(analysis.custom_fields.map((f) => f.name));
  if (name !== undefined) throw invalid(`analysis.custom_fields: the field "${name}" is defined twice`);
  for (const field of analysis.custom_fields) {
    if (field.type !== 'enum' && field.values !== undefined)
      throw invalid(`analysis.custom_fields.${field.name}: values are only for type enum`);
    if (field.type === 'enum') {
      const value = repeated(field.values ?? []);
      if (value !== undefined) throw invalid(`analysis.custom_fields.${field.name}: "${value}" is listed twice`);
    }
  }
}

function repeated(values: string[]): string | undefined {
  return values.find((v, i) => values.indexOf(v) !== i);
}
