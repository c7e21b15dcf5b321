import type { WebhookDeliveryDto } from './dto/webhook-delivery.dto';
import type { WebhookEndpointDto } from './dto/webhook-endpoint.dto';
import type { DeliveryListPosition, WebhookDelivery } from './webhook-delivery.repository';
import type { WebhookEndpoint } from './webhook-endpoint.repository';
import { WebhooksException, WebhooksExceptionCode } from './webhooks.exception';

const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

export function toEndpointDto(endpoint: WebhookEndpoint): WebhookEndpointDto {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    agent_id: endpoint.agentId,
    events: endpoint.events,
    enabled: endpoint.enabled,
    previous_secret_expires_at: isoOrNull(endpoint.previousSecretExpiresAt),
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
}

export function toDeliveryDto(delivery: WebhookDelivery): WebhookDeliveryDto {
  return {
    id: delivery.id,
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    session_id: delivery.sessionId,
    status: delivery.status,
    attempts: delivery.attempts,
    status_codes: delivery.statusCodes,
    last_error: delivery.lastError,
    last_latency_ms: delivery.lastLatencyMs,
    redeliveries: delivery.redeliveries,
    occurred_at: delivery.occurredAt.toISOString(),
    created_at: delivery.createdAt.toISOString(),
    updated_at: delivery.updatedAt.toISOString(),
    last_attempt_at: isoOrNull(delivery.lastAttemptAt),
    delivered_at: isoOrNull(delivery.deliveredAt),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeDeliveryCursor(position: DeliveryListPosition): string {
  return Buffer.from(`${position.createdAt}|${position.id}`).toString('base64url');
}

export function decodeDeliveryCursor(cursor: string): DeliveryListPosition {
  const [createdAt, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  if (rest.length > 0 || !TIMESTAMP.test(createdAt ?? '') || !UUID.test(id ?? '')) {
    throw new WebhooksException(WebhooksExceptionCode.INVALID_CURSOR, 'cursor is not a next_cursor of this list');
  }
  return { createdAt, id };
}
