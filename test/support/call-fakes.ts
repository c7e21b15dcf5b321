import type { Provider } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { AgentProfileRepository } from '../../src/agents/agent-profile.repository';
import { AgentProfileService } from '../../src/agents/agent-profile.service';
import type { AgentProfile } from '../../src/agents/agent-settings';
import { AgentsModule } from '../../src/agents/agents.module';
import { ClusterBusModule } from '../../src/cluster-bus/cluster-bus.module';
import type { EventRecord, ExchangeRecord, SessionRecord } from '../../src/audit/audit-records';
import { AuditWriter } from '../../src/audit/audit-writer.service';
import { CallActivityFeed } from '../../src/call-activity/call-activity.feed';
import { CallService } from '../../src/call-socket/call.service';
import { PreemptionMetrics } from '../../src/call-socket/preemption-metrics';
import { PreemptiveReplies } from '../../src/call-socket/preemptive-replies';
import { ReplyRunner } from '../../src/call-socket/reply-runner';
import { AppConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/config/config.module';
import { CompletionChunk, CompletionRequest, LlmClient } from '../../src/llm/llm-client';
import { LLM_CLIENT_FACTORY, LlmClientFactory } from '../../src/llm/llm-providers';
import { LlmModule } from '../../src/llm/llm.module';
import { LlmService } from '../../src/llm/llm.service';
import { MetricsService } from '../../src/observability/metrics.service';
import { ToolsModule } from '../../src/tools/tools.module';
import { InProcessBusModule } from './in-process-bus';

/** One model stream the test feeds by hand. Rejects like a real SDK once its signal aborts. */
export class FedStream {
  private readonly queue: Array<CompletionChunk | Error | 'end'> = [];
  private wake: (() => void) | null = null;

  constructor(readonly request: CompletionRequest) {
    request.signal.addEventListener('abort', () => this.wake?.());
  }

  get signal(): AbortSignal {
    return this.request.signal;
  }

  text(value: string): void {
    this.enqueue({ type: 'text', text: value });
  }

  /** One tool call in one piece, as a model asking for a tool sends it. */
  toolCall(index: number, id: string, name: string, args: string): void {
    this.enqueue({ type: 'tool_call_delta', index, id, name, arguments: args });
  }

  usage(promptTokens: number, completionTokens: number): void {
    this.enqueue({
      type: 'usage',
      usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
    });
  }

  finish(): void {
    this.enqueue({ type: 'finish', reason: 'stop' });
    this.enqueue('end');
  }

  /** Ends the stream without a finish chunk, like a dropped connection. */
  cut(): void {
    this.enqueue('end');
  }

  fail(error: Error): void {
    this.enqueue(error);
  }

  async *chunks(): AsyncGenerator<CompletionChunk> {
    for (;;) {
      if (this.request.signal.aborted) throw Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
      const item = this.queue.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (item === 'end') return;
      if (item instanceof Error) throw item;
      yield item;
    }
  }

  private enqueue(item: CompletionChunk | Error | 'end'): void {
    this.queue.push(item);
    this.wake?.();
  }
}

export class FedLlmClient extends LlmClient {
  readonly streams: FedStream[] = [];

  streamCompletion(request: CompletionRequest): AsyncIterable<CompletionChunk> {
    const stream = new FedStream(request);
    this.streams.push(stream);
    return stream.chunks();
  }
}

/** Stores a copy of every audit record, as the real writer would snapshot it. */
export class RecordingAudit {
  readonly sessions: SessionRecord[] = [];
  readonly exchanges: ExchangeRecord[] = [];
  readonly events: EventRecord[] = [];
  /** The backlog is over AUDIT_MAX_BACKLOG: admission refuses new calls. */
  overBound = false;

  /** Nothing reaches Postgres here, so no batch is ever reported to the listener. */
  onBatchWritten(listener: (durationMs: number, ok: boolean) => void): void {
    void listener;
  }

  recordSession(record: SessionRecord): void {
    this.sessions.push({ ...record });
  }

  recordExchange(record: ExchangeRecord): void {
    this.exchanges.push({ ...record });
  }

  recordEvent(record: EventRecord): void {
    this.events.push(structuredClone(record));
  }

  /** Every snapshot recorded for one stream's exchange, oldest first. */
  exchangeHistory(streamId: number): ExchangeRecord[] {
    return this.exchanges.filter((e) => e.streamId === streamId);
  }

  latestExchange(streamId: number): ExchangeRecord {
    const history = this.exchangeHistory(streamId);
    if (history.length === 0) throw new Error(`no exchange recorded for stream ${streamId}`);
    return history[history.length - 1];
  }
}

/** A scripted model stream: a plain generator when the script never waits, an async one when it does. */
export type ScriptedChunks = Iterable<CompletionChunk> | AsyncIterable<CompletionChunk>;

/** The stream a client hands out for a script: read a chunk at a time, a throw in it failing the read. */
export async function* streamOf(chunks: ScriptedChunks): AsyncGenerator<CompletionChunk> {
  yield* chunks;
}

/** A stream whose first read fails with `error`, as a provider that answers an error. */
export function failingStream(error: Error): AsyncIterable<CompletionChunk> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}

/** A stream that sends nothing: it ends when `wait()` (started on the first read) resolves, or fails as it rejects. */
export function silentStream(wait: () => Promise<unknown>): AsyncIterable<CompletionChunk> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => wait().then((): IteratorResult<CompletionChunk> => ({ done: true, value: undefined })),
    }),
  };
}

/**
 * LlmModule as the service builds it, with `client` as the `default` provider's client and,
 * when given, `clientFor` building the named providers' clients.
 */
export function llmTestingModule(
  client: LlmClient,
  config: AppConfig,
  clientFor?: LlmClientFactory,
): Promise<TestingModule> {
  const builder = Test.createTestingModule({ imports: [AppConfigModule, LlmModule] })
    .overrideProvider(AppConfig)
    .useValue(config)
    .overrideProvider(LlmClient)
    .useValue(client);
  if (clientFor) builder.overrideProvider(LLM_CLIENT_FACTORY).useValue(clientFor);
  return builder.compile();
}

/** The LlmService of `llmTestingModule`. */
export async function llmServiceFor(client: LlmClient, config: AppConfig): Promise<LlmService> {
  return (await llmTestingModule(client, config)).get(LlmService);
}

type ProfileFields = Omit<AgentProfile, 'agentId' | 'createdAt' | 'updatedAt'>;

/** agent_profiles in memory, for unit tests; `failing` makes every read reject, as an unreachable Postgres would. */
export class InMemoryAgentProfiles implements Pick<AgentProfileRepository, 'findAll' | 'find' | 'upsert' | 'delete'> {
  readonly profiles = new Map<string, AgentProfile>();
  failing = false;
  /** How many times each agent's profile was read with `find`. */
  readonly reads = new Map<string, number>();

  findAll(): Promise<AgentProfile[]> {
    if (this.failing) return Promise.reject(new Error('connection refused'));
    return Promise.resolve([...this.profiles.values()]);
  }

  find(agentId: string): Promise<AgentProfile | null> {
    this.reads.set(agentId, (this.reads.get(agentId) ?? 0) + 1);
    if (this.failing) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(this.profiles.get(agentId) ?? null);
  }

  upsert(agentId: string, fields: ProfileFields): Promise<{ profile: AgentProfile; created: boolean }> {
    const existing = this.profiles.get(agentId);
    const now = new Date();
    const profile: AgentProfile = { agentId, ...fields, createdAt: existing?.createdAt ?? now, updatedAt: now };
    this.profiles.set(agentId, profile);
    return Promise.resolve({ profile, created: !existing });
  }

  delete(agentId: string): Promise<boolean> {
    return Promise.resolve(this.profiles.delete(agentId));
  }
}

export interface CallTestingOptions {
  config: AppConfig;
  client: LlmClient;
  audit: RecordingAudit;
  profiles?: InMemoryAgentProfiles;
  /** More providers for the module, e.g. tools. */
  providers?: Provider[];
}

/**
 * The call path as the service wires it (LLM, tools, agents, CallService and ReplyRunner),
 * with the outside world replaced: the model client, the audit writer and agent_profiles.
 * Initialised, so the tool registry has found every tool.
 */
export async function callTestingModule(options: CallTestingOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [AppConfigModule, LlmModule, ToolsModule, AgentsModule],
    providers: [
      CallService,
      ReplyRunner,
      PreemptiveReplies,
      PreemptionMetrics,
      MetricsService,
      CallActivityFeed,
      { provide: AuditWriter, useValue: options.audit },
      ...(options.providers ?? []),
    ],
  })
    .overrideProvider(AppConfig)
    .useValue(options.config)
    .overrideProvider(LlmClient)
    .useValue(options.client)
    .overrideProvider(AgentProfileRepository)
    .useValue(options.profiles ?? new InMemoryAgentProfiles())
    .overrideModule(ClusterBusModule)
    .useModule(InProcessBusModule.with())
    .compile();
  await moduleRef.init();
  return moduleRef;
}

/** Reads the agent's profile into the cache, as an earlier call of that agent would have. */
export async function warmAgent(moduleRef: TestingModule, agentId: string): Promise<void> {
  await moduleRef.get(AgentProfileService).settingsFor(agentId).ready;
}
