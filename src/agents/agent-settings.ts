import type { AppConfig } from '../config/app-config';
import { type AgentAnalysisProfile, type AnalysisSettings, analysisSettings } from './agent-analysis';
import type { LlmSettings } from '../llm/llm-reply';
import type { ToolAgent, TransferDestination } from '../tools/tool-agent';

/** Everything a call needs to know about its agent: its profile merged over the environment defaults. */
export interface AgentSettings extends ToolAgent, LlmSettings {
  agentId: string;
  /** True when the settings come from a row of agent_profiles. */
  fromProfile: boolean;
  systemPrompt: string;
  /** Static greeting; undefined = the LLM greets, guided by greetingPrompt. */
  greeting?: string;
  greetingPrompt: string;
  model: string;
  temperature: number;
  maxTokens?: number;
  /** Names of the tools the model is offered (built-ins included). */
  tools: string[];
  transferDestinations: TransferDestination[];
  fallbackMessage: string;
  farewellMessage: string;
  /** LLM providers to try, in order (LLM_PROVIDER_ORDER for agents without their own list). */
  providers: string[];
  /** Start the next provider too when the first has said nothing after this (ms); undefined = no hedging. */
  hedgeAfterMs?: number;
  /** Start a reply on the caller's final partial transcript, spoken only once the stream_request confirms it. */
  preemptiveReplies: boolean;
  /** Post-call analysis of its calls. */
  analysis: AnalysisSettings;
}

/** An agent's settings: at once when they are cached, and once its profile has been read. */
export interface AgentLookup {
  /** Null while the profile is being read. */
  now: AgentSettings | null;
  /** Never rejects: a profile that cannot be read gives the defaults. */
  ready: Promise<AgentSettings>;
}

/** The profile columns that override a default when set (null = use the environment's value). */
export interface AgentProfile {
  agentId: string;
  name: string | null;
  systemPrompt: string | null;
  greeting: string | null;
  model: string | null;
  temperature: number | null;
  maxTokens: number | null;
  tools: string[];
  transferDestinations: TransferDestination[];
  fallbackMessage: string | null;
  farewellMessage: string | null;
  /** Null = the default order. */
  providers: string[] | null;
  /** Null = LLM_HEDGE_AFTER_MS (unset: no hedging). */
  hedgeAfterMs: number | null;
  /** Null = PREEMPTIVE_REPLIES. */
  preemptiveReplies: boolean | null;
  /** Null = the environment's defaults (ANALYSIS_ENABLED, the default outcomes, no fields). */
  analysis: AgentAnalysisProfile | null;
  createdAt: Date;
  updatedAt: Date;
}

export function defaultAgentSettings(config: AppConfig, agentId: string): AgentSettings {
  return {
    agentId,
    fromProfile: false,
    systemPrompt: config.llm.systemPrompt,
    greeting: config.call.greeting,
    greetingPrompt: config.call.greetingPrompt,
    model: config.llm.model,
    temperature: config.llm.temperature,
    maxTokens: config.llm.maxTokens,
    tools: config.agents.tools,
    transferDestinations: config.agents.transferDestinations,
    fallbackMessage: config.call.fallbackMessage,
    farewellMessage: config.agents.farewellMessage,
    providers: config.llm.providerOrder,
    hedgeAfterMs: config.llm.hedgeAfterMs,
    preemptiveReplies: config.agents.preemptiveReplies,
    analysis: analysisSettings(null, config.analysis.enabled),
  };
}

export function settingsFromProfile(config: AppConfig, profile: AgentProfile): AgentSettings {
  const defaults = defaultAgentSettings(config, profile.agentId);
  return {
    ...defaults,
    fromProfile: true,
    systemPrompt: profile.systemPrompt ?? defaults.systemPrompt,
    greeting: profile.greeting ?? defaults.greeting,
    model: profile.model ?? defaults.model,
    temperature: profile.temperature ?? defaults.temperature,
    maxTokens: profile.maxTokens ?? defaults.maxTokens,
    tools: profile.tools,
    transferDestinations: profile.transferDestinations,
    fallbackMessage: profile.fallbackMessage ?? defaults.fallbackMessage,
    farewellMessage: profile.farewellMessage ?? defaults.farewellMessage,
    // A provider removed from the configuration since the profile was written is left out.
    providers: knownProviders(config, profile.providers) ?? defaults.providers,
    hedgeAfterMs: profile.hedgeAfterMs ?? defaults.hedgeAfterMs,
    preemptiveReplies: profile.preemptiveReplies ?? defaults.preemptiveReplies,
    analysis: analysisSettings(profile.analysis, config.analysis.enabled),
  };
}

function knownProviders(config: AppConfig, names: string[] | null): string[] | undefined {
  const known = names?.filter((name) => config.llm.providers.some((p) => p.name === name));
  return known?.length ? known : undefined;
}
