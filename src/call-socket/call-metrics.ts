import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';
import { CallService } from './call.service';

/** Why a WebSocket upgrade was refused (label of millis_calls_refused_total). */
export type RefusalReason = 'forbidden_address' | 'unauthorized' | 'draining' | 'capacity' | 'audit_backlog';

/** The call socket's own metrics: open connections, the drain, refused upgrades. */
@Injectable()
export class CallMetrics {
  private readonly refusals: Counter;

  constructor(calls: CallService, metrics: MetricsService) {
    metrics.gauge('millis_calls_active', 'Open call connections', () => calls.activeCalls);
    metrics.gauge(
      'millis_draining',
      '1 while the service refuses new calls for shutdown',
      () => (calls.isDraining ? 1 : 0),
      'max',
    );
    this.refusals = new Counter({
      name: 'millis_calls_refused_total',
      help: 'WebSocket connections refused at the upgrade, by reason',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
  }

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }
}
