import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import type { Subscription } from 'rxjs';
import { CallActivity, CallActivityFeed, ReplyErrorCode } from '../call-activity/call-activity.feed';
import { AppConfig } from '../config/app-config';
import { FIRST_TOKEN_BUCKETS } from './metric-buckets';
import { MetricsService } from './metrics.service';
import { TopLabelValues } from './top-label-values';

/**
 * Call metrics, from the call activity feed (the call path does not know about them). This
 * process's calls only (`activity$`): with WORKERS the primary sums the workers.
 */
@Injectable()
export class CallActivityMetrics implements OnModuleInit, OnModuleDestroy {
  private subscription?: Subscription;
  private readonly agentLabels: TopLabelValues;
  private readonly callsStarted: Counter;
  private readonly callsEnded: Counter;
  private readonly timeToFirstToken: Histogram;
  private readonly replyDuration: Histogram;
  private readonly llmErrors: Counter;
  private readonly framesRejected: Counter;
  private readonly peersLost: Counter;

  constructor(
    private readonly feed: CallActivityFeed,
    metrics: MetricsService,
    config: AppConfig,
  ) {
    const registers = [metrics.registry];
    this.agentLabels = new TopLabelValues(config.metrics.maxAgentLabels, (agentId) =>
      this.callsStarted.remove({ agent_id: agentId }),
    );
    this.callsStarted = new Counter({
      name: 'millis_calls_started_total',
      help: 'Calls started (start_call accepted), by agent; agents outside the METRICS_MAX_AGENT_LABELS most used are "other"',
      labelNames: ['agent_id'],
      registers,
      collect: () => this.agentLabels.rebalance(),
    });
    this.callsEnded = new Counter({
      name: 'millis_calls_ended_total',
      help: 'Calls ended, by end_reason',
      labelNames: ['end_reason'],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'millis_reply_time_to_first_token_seconds',
      help: 'Time from stream_request (or start_call) to the first token of the reply',
      buckets: FIRST_TOKEN_BUCKETS,
      registers,
    });
    this.replyDuration = new Histogram({
      name: 'millis_reply_duration_seconds',
      help: 'Time from stream_request (or start_call) to the end of the reply, by final status',
      labelNames: ['status'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60],
      registers,
    });
    this.llmErrors = new Counter({
      name: 'millis_llm_errors_total',
      help: 'Replies that failed (the caller heard the fallback), by cause',
      labelNames: ['cause'],
      registers,
    });
    this.framesRejected = new Counter({
      name: 'millis_frames_rejected_total',
      help: 'Inbound frames recorded as invalid or dropped, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.peersLost = new Counter({
      name: 'millis_peers_lost_total',
      help: 'Connections terminated because the peer missed a ping',
      registers,
    });
  }

  onModuleInit(): void {
    this.subscription = this.feed.activity$.subscribe((activity) => this.observe(activity));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
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

/** The `cause` label of millis_llm_errors_total: the reply's error code (its text is free-form, never parsed). */
export function llmErrorCause(code: ReplyErrorCode | undefined): string {
  switch (code) {
    case 'timeout':
    case 'unreachable':
    case 'upstream_error':
    case 'rate_limited':
    case 'stream_cut':
    case 'unavailable':
      return code;
    case 'tool_rounds':
    case 'unexpected':
    case undefined:
      return 'other';
    default:
      return unknownCode(code);
  }
}

/** A new error code fails to compile until it has a cause above. */
function unknownCode(code: never): string {
  return String(code);
}
