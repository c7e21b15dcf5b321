import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../webhook-delivery.repository';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhook-wire';

/** Query of GET /api/webhooks/deliveries. */
export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Deliveries to this endpoint.' })
  @IsOptional()
  @IsUUID('all', { message: 'endpoint_id must be a UUID' })
  endpoint_id?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `status must be one of: ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ description: "Deliveries of this call (the platform's session id)." })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  session_id?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(200, { message: 'limit must be at most 200' })
  limit: number = 50;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  endpoint_id: string;

  @ApiProperty({ format: 'uuid', description: 'The event id: the Webhook-Id header, the same on every attempt.' })
  event_id: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  event_type: WebhookEventType;

  @ApiProperty({ description: "The call's session id." })
  session_id: string;

  @ApiProperty({ enum: DELIVERY_STATUSES })
  status: DeliveryStatus;

  @ApiProperty({ description: 'Attempts made, redeliveries included.' })
  attempts: number;

  @ApiProperty({
    type: Number,
    isArray: true,
    nullable: true,
    description: 'The HTTP status of each attempt, in order; null where no answer came (refused, timed out).',
  })
  status_codes: Array<number | null>;

  @ApiProperty({ type: String, nullable: true, example: 'HTTP 500' })
  last_error: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'How long the last attempt took, in ms.' })
  last_latency_ms: number | null;

  @ApiProperty({ description: 'Times it was redelivered through the API.' })
  redeliveries: number;

  @ApiProperty({ format: 'date-time', description: 'When the event happened.' })
  occurred_at: string;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  updated_at: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  last_attempt_at: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  delivered_at: string | null;
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: WebhookDeliveryDto, isArray: true, description: 'Newest first.' })
  items: WebhookDeliveryDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as `cursor` for the next page; null on the last.' })
  next_cursor: string | null;
}
