import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../observability/metrics.service';
import { ClusterBus, DropReason } from './cluster-bus.service';

const DROP_REASONS: DropReason[] = ['disconnected', 'buffer_full', 'too_large'];

/** The bus between instances: what went out, what came in, what was lost, and whether it is connected. */
@Injectable()
export class BusMetrics {
  constructor(bus: ClusterBus, metrics: MetricsService) {
    metrics.total(
      'millis_bus_notifications_sent_total',
      'Notifications sent on the Postgres bus',
      () => bus.stats.sent,
    );
    metrics.total(
      'millis_bus_notifications_received_total',
      'Messages received on the Postgres bus (from every process, this one included)',
      () => bus.stats.received,
    );
    metrics.total(
      'millis_bus_notifications_refused_total',
      'Notifications received on the bus that were not a readable message',
      () => bus.stats.refused,
    );
    new Counter({
      name: 'millis_bus_notifications_dropped_total',
      help: 'Notifications not sent: Postgres away (disconnected), the send queue full (buffer_full), or a message too large',
      labelNames: ['reason'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        const dropped = bus.stats.dropped;
        for (const reason of DROP_REASONS) this.inc({ reason }, dropped[reason]);
      },
    });
    metrics.total(
      'millis_bus_listener_reconnects_total',
      "Times the bus listener's Postgres connection was made again after losing it",
      () => bus.stats.reconnects,
    );
    metrics.gauge(
      'millis_bus_connected',
      'Whether the bus listener is connected to Postgres (1) or not (0); summed over workers',
      () => (bus.stats.connected ? 1 : 0),
    );
  }
}
