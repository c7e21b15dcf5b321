import { Module } from '@nestjs/common';
import { ApiAuthModule } from '../auth/api-auth.module';
import { WebhookDeliveriesController } from './webhook-deliveries.controller';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookRecordsModule } from './webhook-records.module';
import { WebhooksController } from './webhooks.controller';

/** Outgoing webhooks: /api/webhooks, the call events' fan-out to endpoints, and the signed deliveries. */
@Module({
  imports: [ApiAuthModule, WebhookRecordsModule],
  // The deliveries' routes first: /api/webhooks/deliveries is not an endpoint id.
  controllers: [WebhookDeliveriesController, WebhooksController],
  providers: [WebhookEndpointsService],
})
export class WebhooksModule {}
