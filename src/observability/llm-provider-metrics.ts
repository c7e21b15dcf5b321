import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { CircuitState } from '../llm/circuit-breaker';
import { LlmProviders } from '../llm/llm-providers';
import { LlmProviderEvent, LlmTelemetry } from '../llm/llm-telemetry';
import { FIRST_TOKEN_BUCKETS } from './metric-buckets';
import { MetricsService } from './metrics.service';

/** millis_llm_provider_circuit_state: 0 closed, 1 half-open, 2 open. */
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/** Per LLM provider, from its telemetry: labels are configured provider names, a bounded set. */
@Injectable()
export class LlmProviderMetrics implements OnModuleInit, OnModuleDestroy {
  private stopListening?: () => void;
  private readonly requests: Counter;
  private readonly errors: Counter;
  private readonly firstToken: Histogram;
  private readonly reasoning: Histogram;
  private readonly hedges: Counter;

  constructor(
    private readonly telemetry: LlmTelemetry,
    providers: LlmProviders,
    metrics: MetricsService,
  ) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'millis_llm_provider_requests_total',
      help: 'Requests to each LLM provider, by outcome: answered, failed, cancelled (the caller interrupted), lost (a hedge race), skipped (circuit open)',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.errors = new Counter({
      name: 'millis_llm_provider_errors_total',
      help: 'Failed requests to each LLM provider, by cause (the turn moved on to the next provider, or fell back)',
      labelNames: ['provider', 'cause'],
      registers,
    });
    this.firstToken = new Histogram({
      name: 'millis_llm_provider_time_to_first_token_seconds',
      help: 'Time from the request to a provider to its first text or tool call (reasoning excluded), for requests that answered',
      labelNames: ['provider'],
      buckets: FIRST_TOKEN_BUCKETS,
      registers,
    });
    this.reasoning = new Histogram({
      name: 'millis_llm_provider_reasoning_seconds',
      help: 'Time a reasoning model spent thinking (never spoken) before its first text or tool call',
      labelNames: ['provider'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60],
      registers,
    });
    this.hedges = new Counter({
      name: 'millis_llm_hedges_total',
      help: 'Hedged rounds that started their second provider, by which answered first',
      labelNames: ['provider', 'winner'],
      registers,
    });
    new Gauge({
      name: 'millis_llm_provider_circuit_state',
      help: "Each LLM provider's circuit: 0 closed, 1 half-open (its next request is a trial), 2 open (skipped)",
      labelNames: ['provider'],
      registers,
      // With WORKERS each worker has its own circuits: the machine shows the worst.
      aggregator: 'max',
      collect() {
        for (const provider of providers.all)
          this.set({ provider: provider.name }, CIRCUIT_VALUE[provider.breaker.state]);
      },
    });
  }

  onModuleInit(): void {
    this.stopListening = this.telemetry.listen((event) => this.observe(event));
  }

  onModuleDestroy(): void {
    this.stopListening?.();
  }

  private observe(event: LlmProviderEvent): void {
    switch (event.type) {
      case 'attempt':
        this.requests.inc({ provider: event.provider, outcome: event.outcome });
        if (event.outcome === 'failed') this.errors.inc({ provider: event.provider, cause: event.cause ?? 'other' });
        if (event.outcome === 'answered' && event.firstTokenMs !== undefined)
          this.firstToken.observe({ provider: event.provider }, event.firstTokenMs / 1000);
        if (event.outcome === 'answered' && event.reasoningMs !== undefined)
          this.reasoning.observe({ provider: event.provider }, event.reasoningMs / 1000);
        return;
      case 'hedge':
        this.hedges.inc({ provider: event.provider, winner: event.hedgeWon ? 'hedge' : 'first' });
        return;
      default:
        return;
    }
  }
}
