import { Module } from '@nestjs/common';
import { WebhookDeliveryRetentionRepository } from './webhook-delivery-retention.repository';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookEndpointRepository } from './webhook-endpoint.repository';

const REPOSITORIES = [WebhookEndpointRepository, WebhookDeliveryRepository, WebhookDeliveryRetentionRepository];

/**
 * The owner of webhook_endpoints and webhook_deliveries: every statement on them is in a
 * repository of this folder. Retention imports this module alone (no queue, no HTTP).
 */
@Module({ providers: REPOSITORIES, exports: REPOSITORIES })
export class WebhookRecordsModule {}
