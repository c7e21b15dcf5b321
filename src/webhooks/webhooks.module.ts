import { Module } from '@nestjs/common';
import { ApiAuthModule } from '../auth/api-auth.module';
import { CallLifecycleModule } from '../call-lifecycle/call-lifecycle.module';
import { CallRecordsModule } from '../call-records/call-records.module';
import { JobsModule } from '../jobs/jobs.module';
import { ObservabilityModule } from '../observability/observability.module';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookDeliveryQueueRepository } from './webhook-delivery-queue.repository';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookFanOut } from './webhook-fan-out';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookPayloads } from './webhook-payloads';
import { WebhookRecordsModule } from './webhook-records.module';
import { WebhooksController } from './webhooks.controller';

/** Outgoing webhooks: /api/webhooks, the call events' fan-out to endpoints, and the signed deliveries. */
@Module({
  imports: [
    ApiAuthModule,
    WebhookRecordsModule,
    CallRecordsModule,
    JobsModule,
    CallLifecycleModule,
    ObservabilityModule,
  ],
  // The deliveries' routes first: /api/webhooks/deliveries is not an endpoint id.
  controllers: [WebhookDeliveriesController, WebhooksController],
  providers: [
    WebhookEndpointsService,
    WebhookDeliveryQueueRepository,
    WebhookPayloads,
    WebhookMetrics,
    WebhookDeliveryService,
    WebhookFanOut,
  ],
})
export class WebhooksModule {}
