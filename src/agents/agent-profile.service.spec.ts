import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { InMemoryAgentProfiles } from '../../test/support/call-fakes';
import { InProcessBus, InProcessBusModule } from '../../test/support/in-process-bus';
import { ClusterBusModule } from '../cluster-bus/cluster-bus.module';
import { AppConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { AgentProfileRepository } from './agent-profile.repository';
import { AgentProfileService } from './agent-profile.service';
import type { AgentProfile } from './agent-settings';
import { AgentsModule } from './agents.module';

const TTL_MS = 30_000;
/** How long the defaults stand in after a failed read (RETRY_AFTER_FAILURE_MS). */
const RETRY_MS = 5_000;

function profile(agentId: string, systemPrompt: string): AgentProfile {
  return {
    agentId,
    name: null,
    systemPrompt,
    greeting: null,
    model: null,
    temperature: null,
    maxTokens: null,
    tools: [],
    transferDestinations: [],
    fallbackMessage: null,
    farewellMessage: null,
    providers: null,
    hedgeAfterMs: null,
    preemptiveReplies: null,
    analysis: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
}

describe('AgentProfileService: the settings cache calls start with', () => {
  let moduleRef: TestingModule;
  let profiles: InMemoryAgentProfiles;
  let agents: AgentProfileService;
  /** The bus as this process and another instance on it share it. */
  let hub: InProcessBus[];
  let elsewhere: InProcessBus;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    profiles = new InMemoryAgentProfiles();
    profiles.profiles.set('known', profile('known', 'Known prompt.'));
    hub = [];
    elsewhere = new InProcessBus('another-instance', hub);
    moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, AgentsModule] })
      .overrideModule(ClusterBusModule)
      .useModule(InProcessBusModule.with(new InProcessBus('this-instance', hub)))
      .overrideProvider(AppConfig)
      .useValue(AppConfig.from({ SYSTEM_PROMPT: 'Default prompt.', AGENT_PROFILE_CACHE_TTL_MS: String(TTL_MS) }))
      .overrideProvider(AgentProfileRepository)
      .useValue(profiles)
      .compile();
    await moduleRef.init();
    agents = moduleRef.get(AgentProfileService);
  });

  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  it('knows every profile from boot: a call starts with them at once, without a read', () => {
    const lookup = agents.settingsFor('known');

    expect(lookup.now).toMatchObject({ agentId: 'known', fromProfile: true, systemPrompt: 'Known prompt.' });
    expect(profiles.reads.get('known')).toBeUndefined();
  });

  it('reads an agent it has not seen once, then serves it from the cache (unknown agents too)', async () => {
    const first = agents.settingsFor('stranger');
    expect(first.now).toBeNull();
    await expect(first.ready).resolves.toMatchObject({ fromProfile: false, systemPrompt: 'Default prompt.' });

    const second = agents.settingsFor('stranger');
    expect(second.now).toMatchObject({ agentId: 'stranger', fromProfile: false });
    expect(profiles.reads.get('stranger')).toBe(1);
  });

  it('asks once for an agent read by several calls at the same time', async () => {
    const lookups = [agents.settingsFor('stranger'), agents.settingsFor('stranger')];
    await Promise.all(lookups.map((l) => l.ready));

    expect(profiles.reads.get('stranger')).toBe(1);
  });

  it('serves an expired entry while it is read again in the background, then the new profile', async () => {
    profiles.profiles.set('known', profile('known', 'Changed elsewhere.'));

    await jest.advanceTimersByTimeAsync(TTL_MS - 1);
    expect(agents.settingsFor('known').now?.systemPrompt).toBe('Known prompt.');
    expect(profiles.reads.get('known')).toBeUndefined();

    await jest.advanceTimersByTimeAsync(1);
    const expired = agents.settingsFor('known');
    expect(expired.now?.systemPrompt).toBe('Known prompt.');
    expect(profiles.reads.get('known')).toBe(1);
    await jest.advanceTimersByTimeAsync(0);

    expect(agents.settingsFor('known').now?.systemPrompt).toBe('Changed elsewhere.');
  });

  it('uses the defaults when a profile cannot be read, and asks again only after a pause', async () => {
    profiles.failing = true;

    await expect(agents.settingsFor('stranger').ready).resolves.toMatchObject({
      agentId: 'stranger',
      fromProfile: false,
      systemPrompt: 'Default prompt.',
    });
    await jest.advanceTimersByTimeAsync(RETRY_MS - 1);
    agents.settingsFor('stranger');
    expect(profiles.reads.get('stranger')).toBe(1);

    profiles.failing = false;
    await jest.advanceTimersByTimeAsync(1);
    agents.settingsFor('stranger');
    expect(profiles.reads.get('stranger')).toBe(2);
  });

  it('keeps the settings it had when a refresh cannot be read', async () => {
    await jest.advanceTimersByTimeAsync(TTL_MS);
    profiles.failing = true;

    const lookup = agents.settingsFor('known');
    await jest.advanceTimersByTimeAsync(0);

    expect(lookup.now?.systemPrompt).toBe('Known prompt.');
    expect(agents.settingsFor('known').now).toMatchObject({ fromProfile: true, systemPrompt: 'Known prompt.' });
  });

  it('serves an API write at once, and a read that started before it does not overwrite it', async () => {
    const reading = agents.settingsFor('stranger');
    await agents.put('stranger', { system_prompt: 'Written now.' });
    await reading.ready;

    expect(agents.settingsFor('stranger').now?.systemPrompt).toBe('Written now.');
  });

  it('announces each write on the bus', async () => {
    await agents.put('known', { system_prompt: 'Changed.' });
    await agents.remove('known');

    expect(elsewhere.published).toEqual([]);
    expect(hub[1].published).toEqual([
      { channel: 'millis_agent_profiles', message: { agentId: 'known' } },
      { channel: 'millis_agent_profiles', message: { agentId: 'known' } },
    ]);
  });

  it('drops an agent written by another instance: the next call reads the new profile', async () => {
    profiles.profiles.set('known', profile('known', 'Changed elsewhere.'));
    expect(agents.settingsFor('known').now?.systemPrompt).toBe('Known prompt.');

    elsewhere.publish('millis_agent_profiles', { agentId: 'known' });
    const lookup = agents.settingsFor('known');

    expect(lookup.now).toBeNull();
    expect((await lookup.ready).systemPrompt).toBe('Changed elsewhere.');
    expect(agents.settingsFor('known').now?.systemPrompt).toBe('Changed elsewhere.');
  });

  it('does not keep what a read begun before a change elsewhere returns', async () => {
    await jest.advanceTimersByTimeAsync(TTL_MS);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const find = profiles.find.bind(profiles);
    const old = profile('known', 'Known prompt.');
    profiles.find = async () => {
      await gate;
      return old;
    };
    agents.settingsFor('known');
    profiles.find = find;
    profiles.profiles.set('known', profile('known', 'Changed elsewhere.'));
    elsewhere.publish('millis_agent_profiles', { agentId: 'known' });
    const fresh = agents.settingsFor('known').ready;
    release();
    await jest.advanceTimersByTimeAsync(0);

    expect((await fresh).systemPrompt).toBe('Changed elsewhere.');
    expect(agents.settingsFor('known').now?.systemPrompt).toBe('Changed elsewhere.');
  });

  it('refreshes every entry after a bus outage (announcements may have been missed)', async () => {
    profiles.profiles.set('known', profile('known', 'Changed during the outage.'));
    hub[1].reconnected();

    expect(agents.settingsFor('known').now?.systemPrompt).toBe('Known prompt.');
    await jest.advanceTimersByTimeAsync(0);
    expect(agents.settingsFor('known').now?.systemPrompt).toBe('Changed during the outage.');
  });
});
