import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { BUS_CHANNELS } from '../cluster-bus/bus-messages';
import { ClusterBus } from '../cluster-bus/cluster-bus.service';
import { describeError } from '../common/describe-error';
import { AppConfig } from '../config/app-config';
import { ToolRegistry } from '../tools/tool-registry';
import { AgentProfileRepository } from './agent-profile.repository';
import { AgentLookup, AgentProfile, AgentSettings, defaultAgentSettings, settingsFromProfile } from './agent-settings';
import { type AgentAnalysisProfile, analysisProfile, checkAnalysis } from './agent-analysis';
import { AgentsException, AgentsExceptionCode } from './agents.exception';
import type { AgentProfileDto, PatchAgentProfileDto, PutAgentProfileDto } from './dto/agent-profile.dto';

/** After a failed read, how long the environment defaults stand in before Postgres is asked again. */
const RETRY_AFTER_FAILURE_MS = 5_000;

interface CacheEntry {
  settings: AgentSettings;
  expiresAt: number;
  /** The API write this entry came from (0 for a read), so a read that started earlier cannot overwrite it. */
  writtenAt: number;
}

/**
 * Agent profiles: the CRUD behind /api/agents, and the settings a call starts with.
 * start_call must not wait on Postgres, so settings are cached per agent (known and
 * unknown ones): all profiles are loaded at boot, a miss is read once, an expired entry
 * is served while it is refreshed in the background, and API writes update the cache
 * at once. Every write is announced on the bus, and every other process (instance or
 * worker) drops that agent from its cache, so its next call reads the new profile; the
 * AGENT_PROFILE_CACHE_TTL_MS lifetime stays as the safety net for a missed announcement
 * (after a bus outage every entry is refreshed). Every agent id
 * a caller sends gets an entry, so the cache keeps the AGENT_PROFILE_CACHE_MAX most
 * recently used; an evicted agent is read again on its next call.
 */
@Injectable()
export class AgentProfileService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AgentProfileService.name);
  private readonly cache: LRUCache<string, CacheEntry>;
  private readonly loading = new Map<string, Promise<AgentSettings>>();
  /** Counts API writes and announced ones; see CacheEntry.writtenAt. */
  private writes = 0;
  /** Agents written elsewhere while reads were under way (cleared once none is). */
  private readonly forgottenAt = new Map<string, number>();
  /** Reads of a profile under way (those no longer in `loading` included). */
  private reads = 0;

  constructor(
    private readonly repository: AgentProfileRepository,
    private readonly config: AppConfig,
    private readonly registry: ToolRegistry,
    private readonly bus: ClusterBus,
  ) {
    this.cache = new LRUCache({ max: config.agents.profileCacheMax });
    bus.subscribe(BUS_CHANNELS.agentProfiles, ({ agentId }, sender) => {
      if (sender.origin !== bus.sender.origin && typeof agentId === 'string') this.forget(agentId);
    });
    // Announcements may have been missed while the bus was away: everything is read again (served meanwhile).
    bus.onConnected((again) => {
      if (again) for (const entry of this.cache.values()) entry.expiresAt = 0;
    });
  }

  /** Agents whose settings are cached (at most AGENT_PROFILE_CACHE_MAX). */
  get cachedAgents(): number {
    return this.cache.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      for (const profile of await this.repository.findAll())
        this.remember(profile.agentId, settingsFromProfile(this.config, profile));
    } catch (error) {
      this.logger.warn(`could not preload agent profiles: ${describeError(error)}`);
    }
  }

  /** `now` is set when cached (the usual case), so the greeting goes out without waiting. */
  settingsFor(agentId: string): AgentLookup {
    const entry = this.cache.get(agentId);
    if (!entry) return { now: null, ready: this.load(agentId) };
    if (entry.expiresAt <= Date.now()) void this.load(agentId);
    return { now: entry.settings, ready: Promise.resolve(entry.settings) };
  }

  async list(): Promise<AgentProfileDto[]> {
    return (await this.repository.findAll()).map(toDto);
  }

  async get(agentId: string): Promise<AgentProfileDto> {
    return toDto(await this.require(agentId));
  }

  async put(agentId: string, body: PutAgentProfileDto): Promise<{ profile: AgentProfileDto; created: boolean }> {
    const fields = {
      name: body.name ?? null,
      systemPrompt: body.system_prompt ?? null,
      greeting: body.greeting ?? null,
      model: body.model ?? null,
      temperature: body.temperature ?? null,
      maxTokens: body.max_tokens ?? null,
      tools: body.tools ?? [],
      transferDestinations: (body.transfer_destinations ?? []).map((d) => ({ ...d })),
      fallbackMessage: body.fallback_message ?? null,
      farewellMessage: body.farewell_message ?? null,
      providers: body.providers ?? null,
      hedgeAfterMs: body.hedge_after_ms ?? null,
      preemptiveReplies: body.preemptive_replies ?? null,
      analysis: body.analysis ? analysisProfile(body.analysis) : null,
    };
    this.check(fields);
    const { profile, created } = await this.repository.upsert(agentId, fields);
    this.written(agentId, settingsFromProfile(this.config, profile));
    this.bus.publish(BUS_CHANNELS.agentProfiles, { agentId });
    return { profile: toDto(profile), created };
  }

  async patch(agentId: string, body: PatchAgentProfileDto): Promise<AgentProfileDto> {
    const current = toDto(await this.require(agentId));
    const merged = Object.fromEntries(
      Object.entries({ ...current, ...body }).filter(([, v]) => v !== undefined),
    ) as PutAgentProfileDto;
    return (await this.put(agentId, merged)).profile;
  }

  async remove(agentId: string): Promise<void> {
    if (!(await this.repository.delete(agentId))) throw notFound(agentId);
    this.written(agentId, defaultAgentSettings(this.config, agentId));
    this.bus.publish(BUS_CHANNELS.agentProfiles, { agentId });
  }

  private async require(agentId: string): Promise<AgentProfile> {
    const profile = await this.repository.find(agentId);
    if (!profile) throw notFound(agentId);
    return profile;
  }

  private check(fields: {
    tools: string[];
    transferDestinations: Array<{ name: string }>;
    providers: string[] | null;
    analysis: AgentAnalysisProfile | null;
  }): void {
    const known = new Set(this.registry.names);
    const unknown = fields.tools.filter((name) => !known.has(name));
    if (unknown.length) {
      throw new AgentsException(
        AgentsExceptionCode.UNKNOWN_TOOL,
        `unknown tool(s): ${unknown.join(', ')}; available: ${[...known].join(', ')}`,
      );
    }
    const names = fields.transferDestinations.map((d) => d.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate)
      throw new AgentsException(
        AgentsExceptionCode.DUPLICATE_DESTINATION,
        `transfer destination "${duplicate}" is listed twice`,
      );
    const configured = this.config.llm.providers.map((p) => p.name);
    const unknownProviders = (fields.providers ?? []).filter((name) => !configured.includes(name));
    if (unknownProviders.length) {
      throw new AgentsException(
        AgentsExceptionCode.UNKNOWN_PROVIDER,
        `unknown LLM provider(s): ${unknownProviders.join(', ')}; configured: ${configured.join(', ')}`,
      );
    }
    const repeated = (fields.providers ?? []).find((name, i, all) => all.indexOf(name) !== i);
    if (repeated)
      throw new AgentsException(AgentsExceptionCode.UNKNOWN_PROVIDER, `LLM provider "${repeated}" is listed twice`);
    if (fields.analysis) checkAnalysis(fields.analysis);
  }

  private load(agentId: string): Promise<AgentSettings> {
    const pending = this.loading.get(agentId);
    if (pending) return pending;
    const startedAfter = this.writes;
    this.reads += 1;
    const load = this.repository
      .find(agentId)
      .then((profile) => {
        const written = this.cache.peek(agentId);
        if (written && written.writtenAt > startedAfter) return written.settings;
        // Changed elsewhere since this read began: it may be the old profile, so it is not kept.
        if ((this.forgottenAt.get(agentId) ?? 0) > startedAfter)
          return settingsOrDefaults(this.config, agentId, profile);
        const settings = settingsOrDefaults(this.config, agentId, profile);
        this.remember(agentId, settings);
        return settings;
      })
      .catch((error: unknown) => {
        this.logger.warn(`agent profile ${agentId} could not be read, using the defaults: ${describeError(error)}`);
        const stale = this.cache.peek(agentId)?.settings ?? defaultAgentSettings(this.config, agentId);
        this.cache.set(agentId, { settings: stale, expiresAt: Date.now() + RETRY_AFTER_FAILURE_MS, writtenAt: 0 });
        return stale;
      })
      .finally(() => {
        if (this.loading.get(agentId) === load) this.loading.delete(agentId);
        if (--this.reads === 0) this.forgottenAt.clear();
      });
    this.loading.set(agentId, load);
    return load;
  }

  /** Another process wrote this agent's profile: the next call reads it from Postgres. */
  private forget(agentId: string): void {
    this.cache.delete(agentId);
    this.writes += 1;
    // A read already under way may return the old profile: the next call starts a read of its own.
    if (this.loading.delete(agentId)) this.forgottenAt.set(agentId, this.writes);
  }

  private written(agentId: string, settings: AgentSettings): void {
    this.remember(agentId, settings, ++this.writes);
  }

  private remember(agentId: string, settings: AgentSettings, writtenAt = 0): void {
    this.cache.set(agentId, { settings, expiresAt: Date.now() + this.config.agents.profileCacheTtlMs, writtenAt });
  }
}

function settingsOrDefaults(config: AppConfig, agentId: string, profile: AgentProfile | null): AgentSettings {
  return profile ? settingsFromProfile(config, profile) : defaultAgentSettings(config, agentId);
}

function notFound(agentId: string): AgentsException {
  return new AgentsException(AgentsExceptionCode.PROFILE_NOT_FOUND, `no profile for agent "${agentId}"`);
}

function toDto(profile: AgentProfile): AgentProfileDto {
  return {
    agent_id: profile.agentId,
    name: profile.name,
    system_prompt: profile.systemPrompt,
    greeting: profile.greeting,
    model: profile.model,
    temperature: profile.temperature,
    max_tokens: profile.maxTokens,
    tools: profile.tools,
    transfer_destinations: profile.transferDestinations,
    fallback_message: profile.fallbackMessage,
    farewell_message: profile.farewellMessage,
    providers: profile.providers,
    hedge_after_ms: profile.hedgeAfterMs,
    preemptive_replies: profile.preemptiveReplies,
    analysis: profile.analysis,
    created_at: profile.createdAt.toISOString(),
    updated_at: profile.updatedAt.toISOString(),
  };
}
