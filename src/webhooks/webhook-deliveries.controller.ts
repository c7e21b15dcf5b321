import { Controller, Get, HttpCode, Param, Post, Query, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import { ListDeliveriesQueryDto, WebhookDeliveryDto, WebhookDeliveryPageDto } from './dto/webhook-delivery.dto';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { decodeDeliveryCursor, encodeDeliveryCursor, toDeliveryDto } from './webhook.mapper';
import { uuidParam } from './webhooks.controller';
import { WebhooksExceptionFilter } from './webhooks.exception';

const queryValidationPipe = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });

/** The delivery log: what was sent where, how each attempt went; and redelivery. */
@ApiTags('webhooks')
@RequireApiKey()
@UseFilters(WebhooksExceptionFilter)
@UsePipes(queryValidationPipe)
@Controller('api/webhooks/deliveries')
export class WebhookDeliveriesController {
  constructor(
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly delivery: WebhookDeliveryService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The delivery log',
    description: 'One row per (endpoint, event), newest first, with every attempt’s status code.',
  })
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiBadRequestResponse({ description: 'A filter is invalid (the message says which and why).' })
  async list(@Query() query: ListDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    const before = query.cursor === undefined ? undefined : decodeDeliveryCursor(query.cursor);
    const rows = await this.deliveries.list(
      { endpointId: query.endpoint_id, status: query.status, sessionId: query.session_id },
      query.limit + 1,
      before,
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((r) => toDeliveryDto(r.delivery)),
      next_cursor: rows.length > query.limit && last ? encodeDeliveryCursor(last.position) : null,
    };
  }

  @Post(':id/redeliver')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send a delivery again',
    description:
      'A delivered or failed delivery is queued again, with the same event id (Webhook-Id) and a fresh round of retries; the payload is built anew from the call as stored now.',
  })
  @ApiParam({ name: 'id', description: 'The delivery id.', format: 'uuid' })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto, description: 'Queued; the delivery is pending again.' })
  @ApiNotFoundResponse({ description: 'No such delivery.' })
  @ApiConflictResponse({ description: 'The delivery is still pending (being delivered or retried).' })
  async redeliver(@Param('id', uuidParam) id: string): Promise<WebhookDeliveryDto> {
    return toDeliveryDto(await this.delivery.redeliver(id));
  }
}
