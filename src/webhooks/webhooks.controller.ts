import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  UseFilters,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { RequireApiKey } from '../auth/require-api-key.decorator';
import {
  CreateWebhookDto,
  RotateSecretDto,
  UpdateWebhookDto,
  WebhookEndpointDto,
  WebhookEndpointWithSecretDto,
} from './dto/webhook-endpoint.dto';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhooksExceptionFilter } from './webhooks.exception';

const ID_PARAM = { name: 'id', description: 'The endpoint id.', format: 'uuid' };
export const uuidParam = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException('id must be a UUID') });

/** Unknown fields are a 400, not silently dropped: a typo in `event` should not go unnoticed. */
const bodyValidationPipe = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });

@ApiTags('webhooks')
@RequireApiKey()
@UseFilters(WebhooksExceptionFilter)
@UsePipes(bodyValidationPipe)
@ApiBadRequestResponse({
  description: 'The body is invalid (the message says which field and why), or the URL is refused.',
})
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a webhook endpoint',
    description:
      'Global (no agent_id) or for one agent. The answer holds the signing secret: the only time it is shown.',
  })
  @ApiCreatedResponse({ type: WebhookEndpointWithSecretDto })
  create(@Body() body: CreateWebhookDto): Promise<WebhookEndpointWithSecretDto> {
    return this.endpoints.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'Every webhook endpoint (without secrets)' })
  @ApiQuery({ name: 'agent_id', required: false, description: "Only this agent's endpoints (not the global ones)." })
  @ApiOkResponse({ type: WebhookEndpointDto, isArray: true })
  list(@Query('agent_id') agentId?: string): Promise<WebhookEndpointDto[]> {
    return this.endpoints.list(agentId || undefined);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook endpoint (without its secret)' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: WebhookEndpointDto })
  @ApiNotFoundResponse({ description: 'No such endpoint.' })
  get(@Param('id', uuidParam) id: string): Promise<WebhookEndpointDto> {
    return this.endpoints.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change some fields of an endpoint',
    description: 'agent_id null makes it global. enabled false stops its pending deliveries (they become failed).',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: WebhookEndpointDto })
  @ApiNotFoundResponse({ description: 'No such endpoint.' })
  update(@Param('id', uuidParam) id: string, @Body() body: UpdateWebhookDto): Promise<WebhookEndpointDto> {
    return this.endpoints.update(id, body);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: "Replace an endpoint's signing secret",
    description:
      'The answer holds the new secret (shown once). The previous one keeps signing as a second signature for previous_secret_ttl_seconds.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: WebhookEndpointWithSecretDto })
  @ApiNotFoundResponse({ description: 'No such endpoint.' })
  rotateSecret(
    @Param('id', uuidParam) id: string,
    @Body() body: RotateSecretDto,
  ): Promise<WebhookEndpointWithSecretDto> {
    return this.endpoints.rotateSecret(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete an endpoint',
    description: 'Its deliveries go with it: pending ones are never sent, and its log is deleted.',
  })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ description: 'No such endpoint.' })
  remove(@Param('id', uuidParam) id: string): Promise<void> {
    return this.endpoints.remove(id);
  }
}
