import { Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { type Aggregator, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import { AuditWriter } from '../audit/audit-writer.service';
import { AppConfig } from '../config/app-config';
import { CallActivity, CallActivityFeed, ReplyErrorCode } from '../call-socket/call-activity.feed';
import { CallService } from '../call-socket/call.service';
import { InstanceHeartbeat } from '../instance/instance-heartbeat.service';
import type { CircuitState } from '../llm/circuit-breaker';
import { LlmProviders } from '../llm/llm-providers';
import { LlmProviderEvent, LlmTelemetry } from '../llm/llm-telemetry';
import { TopLabelValues } from './top-label-values';

/**
 * prom-client defaults that are gauges named like counters (promtool refuses them); each is
 * the sum of its per-type gauge (`nodejs_active_handles{type}`, ...), which stays.
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Why a WebSocket upgrade was refused (label of millis_calls_refused_total). */
export type RefusalReason = 'forbidden_address' | 'unauthorized' | 'draining' | 'capacity' | 'audit_backlog';

/** millis_llm_provider_circuit_state: 0 closed, 1 half-open, 2 open. */
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** Seconds to a first token: the service's and each provider's, so the two read against each other. */
const FIRST_TOKEN_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

/**
 * Prometheus metrics. Call metrics come from CallActivityFeed (the call path does not know
 * about them); gauges are read when scraped. Labels never carry phone numbers or session ids.
 * Its own registry, so several apps in one process (tests) do not collide.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private subscription?: Subscription;
  private stopListening?: () => void;
  private readonly agentLabels: TopLabelValues;

  private readonly callsStarted = new Counter({
    name: 'millis_calls_started_total',
    help: 'Calls started (start_call accepted), by agent; agents outside the METRICS_MAX_AGENT_LABELS most used are "other"',
    labelNames: ['agent_id'],
    registers: [this.registry],
    collect: () => this.agentLabels.rebalance(),
  });
  private readonly callsEnded = new Counter({
    name: 'millis_calls_ended_total',
    help: 'Calls ended, by end_reason',
    labelNames: ['end_reason'],
    registers: [this.registry],
  });
  readonly callsRefused = new Counter({
    name: 'millis_calls_refused_total',
    help: 'WebSocket connections refused at the upgrade, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly timeToFirstToken = new Histogram({
    name: 'millis_reply_time_to_first_token_seconds',
    help: 'Time from stream_request (or start_call) to the first token of the reply',
    buckets: FIRST_TOKEN_BUCKETS,
    registers: [this.registry],
  });
  private readonly replyDuration = new Histogram({
    name: 'millis_reply_duration_seconds',
    help: 'Time from stream_request (or start_call) to the end of the reply, by final status',
    labelNames: ['status'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60],
    registers: [this.registry],
  });
  private readonly llmErrors = new Counter({
    name: 'millis_llm_errors_total',
    help: 'Replies that failed (the caller heard the fallback), by cause',
    labelNames: ['cause'],
    registers: [this.registry],
  });
  private readonly framesRejected = new Counter({
    name: 'millis_frames_rejected_total',
    help: 'Inbound frames recorded as invalid or dropped, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly peersLost = new Counter({
    name: 'millis_peers_lost_total',
    help: 'Connections terminated because the peer missed a ping',
    registers: [this.registry],
  });
  readonly crashedSessionsClosed = new Counter({
    name: 'millis_crashed_sessions_closed_total',
    help: "Sessions left active by a dead instance and closed as 'crashed' by this one",
    registers: [this.registry],
  });
  private readonly auditWriteDuration = new Histogram({
    name: 'millis_audit_write_duration_seconds',
    help: 'Time to write one audit batch to Postgres, by outcome',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  // Per LLM provider: labels are configured provider names, a bounded set.
  private readonly providerRequests = new Counter({
    name: 'millis_llm_provider_requests_total',
    help: 'Requests to each LLM provider, by outcome: answered, failed, cancelled (the caller interrupted), lost (a hedge race), skipped (circuit open)',
    labelNames: ['provider', 'outcome'],
    registers: [this.registry],
  });
  private readonly providerErrors = new Counter({
    name: 'millis_llm_provider_errors_total',
    help: 'Failed requests to each LLM provider, by cause (the turn moved on to the next provider, or fell back)',
    labelNames: ['provider', 'cause'],
    registers: [this.registry],
  });
  private readonly providerFirstToken = new Histogram({
    name: 'millis_llm_provider_time_to_first_token_seconds',
    help: 'Time from the request to a provider to its first text or tool call (reasoning excluded), for requests that answered',
    labelNames: ['provider'],
    buckets: FIRST_TOKEN_BUCKETS,
    registers: [this.registry],
  });
  private readonly providerReasoning = new Histogram({
    name: 'millis_llm_provider_reasoning_seconds',
    help: 'Time a reasoning model spent thinking (never spoken) before its first text or tool call',
    labelNames: ['provider'],
    buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
    registers: [this.registry],
  });
  private readonly hedges = new Counter({
    name: 'millis_llm_hedges_total',
    help: 'Hedged rounds that started their second provider, by which answered first',
    labelNames: ['provider', 'winner'],
    registers: [this.registry],
  });

  constructor(
    private readonly feed: CallActivityFeed,
    private readonly calls: CallService,
    private readonly audit: AuditWriter,
    private readonly config: AppConfig,
    private readonly heartbeat: InstanceHeartbeat,
    @Optional() private readonly providers?: LlmProviders,
    @Optional() private readonly llmTelemetry?: LlmTelemetry,
  ) {
    this.agentLabels = new TopLabelValues(config.metrics.maxAgentLabels, (agentId) =>
      this.callsStarted.remove({ agent_id: agentId }),
    );
    collectDefaultMetrics({ register: this.registry });
    for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
    // With WORKERS the primary sums each metric over the workers, unless `aggregator` says otherwise.
    const gauge = (name: string, help: string, read: () => number, aggregator: Aggregator = 'sum') =>
      new Gauge({
        name,
        help,
        aggregator,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    const total = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    gauge('millis_calls_active', 'Open call connections', () => this.calls.activeCalls);
    gauge(
      'millis_draining',
      '1 while the service refuses new calls for shutdown',
      () => (this.calls.isDraining ? 1 : 0),
      'max',
    );
    gauge(
      'millis_audit_queue_depth',
      'Audit rows waiting to be written to Postgres',
      () => this.audit.getStats().backlog,
    );
    // Peak and bound are per process (each worker has its own queue): the largest peak is what nears the bound.
    gauge(
      'millis_audit_queue_peak',
      'Largest audit backlog since start',
      () => this.audit.getStats().peakBacklog,
      'max',
    );
    gauge(
      'millis_audit_queue_bound',
      'AUDIT_MAX_BACKLOG: past it, new calls are refused',
      () => this.config.audit.maxBacklog,
      'first',
    );
    total('millis_audit_rows_written_total', 'Audit rows written to Postgres', () => this.audit.getStats().rowsWritten);
    total(
      'millis_audit_failed_flushes_total',
      'Audit batches that failed and were retried',
      () => this.audit.getStats().failedFlushes,
    );
    total(
      'millis_audit_dead_lettered_total',
      'Audit rows written to the dead-letter file',
      () => this.audit.getStats().deadLettered,
    );
    const llmProviders = this.providers;
    new Gauge({
      name: 'millis_llm_provider_circuit_state',
      help: "Each LLM provider's circuit: 0 closed, 1 half-open (its next request is a trial), 2 open (skipped)",
      labelNames: ['provider'],
      registers: [this.registry],
      // With WORKERS each worker has its own circuits: the machine shows the worst.
      aggregator: 'max',
      collect() {
        for (const provider of llmProviders?.all ?? [])
          this.set({ provider: provider.name }, CIRCUIT_VALUE[provider.breaker.state]);
      },
    });
  }

  onModuleInit(): void {
    this.subscription = this.feed.activity$.subscribe((activity) => this.observe(activity));
    this.audit.onBatchWritten((durationMs, ok) =>
      this.auditWriteDuration.observe({ outcome: ok ? 'ok' : 'failed' }, durationMs / 1000),
    );
    this.heartbeat.onCrashedSessionsClosed((sessions) => this.crashedSessionsClosed.inc(sessions));
    this.stopListening = this.llmTelemetry?.listen((event) => this.observeProvider(event));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.stopListening?.();
  }

  private observeProvider(event: LlmProviderEvent): void {
    switch (event.type) {
      case 'attempt':
        this.providerRequests.inc({ provider: event.provider, outcome: event.outcome });
        if (event.outcome === 'failed')
          this.providerErrors.inc({ provider: event.provider, cause: event.cause ?? 'other' });
        if (event.outcome === 'answered' && event.firstTokenMs !== undefined)
          this.providerFirstToken.observe({ provider: event.provider }, event.firstTokenMs / 1000);
        if (event.outcome === 'answered' && event.reasoningMs !== undefined)
          this.providerReasoning.observe({ provider: event.provider }, event.reasoningMs / 1000);
        return;
      case 'hedge':
        this.hedges.inc({ provider: event.provider, winner: event.hedgeWon ? 'hedge' : 'first' });
        return;
      default:
        return;
    }
  }

  private observe(activity: CallActivity): void {
    switch (activity.type) {
      case 'call_started':
        this.callsStarted.inc({ agent_id: this.agentLabels.use(activity.agentId.slice(0, 64)) });
        return;
      case 'call_ended':
        this.callsEnded.inc({ end_reason: activity.endReason });
        return;
      case 'reply_finished':
        if (activity.timeToFirstTokenMs !== null) this.timeToFirstToken.observe(activity.timeToFirstTokenMs / 1000);
        this.replyDuration.observe({ status: activity.status }, activity.totalMs / 1000);
        if (activity.status === 'failed') this.llmErrors.inc({ cause: llmErrorCause(activity.errorCode) });
        return;
      case 'frame_rejected':
        this.framesRejected.inc({ reason: activity.reason }, activity.count);
        return;
      case 'peer_lost':
        this.peersLost.inc();
        return;
      default:
        return;
    }
  }
}

/** Bounded label values, from the reply's error code (the error text is free-form). */
export function llmErrorCause(code: ReplyErrorCode | undefined): string {
  switch (code) {
    case 'timeout':
    case 'unreachable':
    case 'upstream_error':
    case 'rate_limited':
    case 'stream_cut':
    case 'unavailable':
      return code;
    default:
      return 'other';
  }
}
