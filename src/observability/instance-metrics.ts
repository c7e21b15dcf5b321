import { Injectable } from '@nestjs/common';
import { InstanceHeartbeat } from '../instance/instance-heartbeat.service';
import { MetricsService } from './metrics.service';

/** What this instance did for its dead peers. */
@Injectable()
export class InstanceMetrics {
  constructor(heartbeat: InstanceHeartbeat, metrics: MetricsService) {
    metrics.total(
      'millis_crashed_sessions_closed_total',
      "Sessions left active by a dead instance and closed as 'crashed' by this one",
      () => heartbeat.crashedSessionsClosed,
    );
    metrics.total(
      'millis_sessions_reclaimed_total',
      "Calls in progress here that another instance had closed as 'crashed' while this one was cut off from Postgres, taken back",
      () => heartbeat.sessionsReclaimed,
    );
  }
}
