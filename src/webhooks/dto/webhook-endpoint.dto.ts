import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhook-wire';

const EVENTS_MESSAGE = `events must be a non-empty list of: ${WEBHOOK_EVENT_TYPES.join(', ')}`;

/** Body of POST /api/webhooks. */
export class CreateWebhookDto {
  @ApiProperty({
    description:
      'Where deliveries are POSTed. https with a public address, unless WEBHOOK_ALLOW_PRIVATE_URLS=true (then http and private addresses too).',
    example: 'https://example.com/hooks/calls',
  })
  @IsString({ message: 'url must be a string' })
  @MinLength(1, { message: 'url must not be empty' })
  url: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'CRM sync' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "Only this agent's calls; left out or null: every agent's calls (a global endpoint).",
    example: 'agent-1',
  })
  @IsOptional()
  @IsString({ message: 'agent_id must be a string or null' })
  @MinLength(1, { message: 'agent_id must not be empty (use null for every agent)' })
  @MaxLength(200)
  agent_id?: string | null;

  @ApiPropertyOptional({
    enum: WEBHOOK_EVENT_TYPES,
    isArray: true,
    description: 'The events sent to this endpoint; left out: all of them.',
    example: ['call.ended', 'call.analyzed'],
  })
  @IsOptional()
  @IsArray({ message: EVENTS_MESSAGE })
  @ArrayMinSize(1, { message: EVENTS_MESSAGE })
  @ArrayUnique({ message: 'events must not repeat an event' })
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: EVENTS_MESSAGE })
  events?: WebhookEventType[];

  @ApiPropertyOptional({
    description: 'A disabled endpoint gets no new deliveries; its pending ones stop.',
    default: true,
  })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}

/** Body of PATCH /api/webhooks/:id: the fields to change. */
export class UpdateWebhookDto extends PartialType(CreateWebhookDto) {}

/** Body of POST /api/webhooks/:id/rotate-secret. */
export class RotateSecretDto {
  @ApiPropertyOptional({
    description: 'How long the previous secret keeps signing too (a second signature), so receivers can switch.',
    default: 86_400,
    minimum: 0,
    maximum: 604_800,
  })
  @IsOptional()
  @IsInt({ message: 'previous_secret_ttl_seconds must be an integer' })
  @Min(0)
  @Max(604_800)
  previous_secret_ttl_seconds?: number;
}

export class WebhookEndpointDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'https://example.com/hooks/calls' })
  url: string;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Null: a global endpoint (every agent).' })
  agent_id: string | null;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  events: WebhookEventType[];

  @ApiProperty()
  enabled: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'After a rotation: until when the previous secret also signs.',
  })
  previous_secret_expires_at: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  @ApiProperty({ format: 'date-time' })
  updated_at: string;
}

/** The answer of a creation or a rotation: the only time the secret is shown. */
export class WebhookEndpointWithSecretDto extends WebhookEndpointDto {
  @ApiProperty({
    description: 'The signing secret (whsec_...). Shown once: store it now; it is never returned again.',
    example: 'whsec_3q2-7wE...',
  })
  secret: string;
}
