import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import type {
  CreateWebhookDto,
  RotateSecretDto,
  UpdateWebhookDto,
  WebhookEndpointDto,
  WebhookEndpointWithSecretDto,
} from './dto/webhook-endpoint.dto';
import { EndpointFields, WebhookEndpoint, WebhookEndpointRepository } from './webhook-endpoint.repository';
import { toEndpointDto } from './webhook.mapper';
import { webhookUrlProblem } from './webhook-url';
import { WEBHOOK_EVENT_TYPES } from './webhook-wire';
import { WebhooksException, WebhooksExceptionCode } from './webhooks.exception';

const DEFAULT_PREVIOUS_SECRET_TTL_SECONDS = 86_400;

/** 32 random bytes: the HMAC key receivers use as it is written (the whole string, prefix included). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** /api/webhooks: endpoints with their URL rules and secrets. The secret leaves only in the answer that made it. */
@Injectable()
export class WebhookEndpointsService {
  constructor(
    private readonly endpoints: WebhookEndpointRepository,
    private readonly config: AppConfig,
  ) {}

  async create(body: CreateWebhookDto): Promise<WebhookEndpointWithSecretDto> {
    const fields: EndpointFields = {
      url: body.url,
      description: body.description ?? null,
      agentId: body.agent_id ?? null,
      events: body.events ?? [...WEBHOOK_EVENT_TYPES],
      enabled: body.enabled ?? true,
    };
    await this.checkUrl(fields.url);
    const secret = newWebhookSecret();
    return { ...toEndpointDto(await this.endpoints.create(fields, secret)), secret };
  }

  async list(agentId?: string): Promise<WebhookEndpointDto[]> {
    return (await this.endpoints.findAll(agentId)).map(toEndpointDto);
  }

  async get(id: string): Promise<WebhookEndpointDto> {
    return toEndpointDto(await this.find(id));
  }

  async update(id: string, body: UpdateWebhookDto): Promise<WebhookEndpointDto> {
    const current = await this.find(id);
    const fields: EndpointFields = {
      url: body.url ?? current.url,
      description: body.description === undefined ? current.description : body.description,
      agentId: body.agent_id === undefined ? current.agentId : body.agent_id,
      events: body.events ?? current.events,
      enabled: body.enabled ?? current.enabled,
    };
    if (body.url !== undefined) await this.checkUrl(fields.url);
    const updated = await this.endpoints.update(id, fields);
    if (!updated) throw notFound(id);
    return toEndpointDto(updated);
  }

  async rotateSecret(id: string, body: RotateSecretDto): Promise<WebhookEndpointWithSecretDto> {
    const ttlSeconds = body.previous_secret_ttl_seconds ?? DEFAULT_PREVIOUS_SECRET_TTL_SECONDS;
    const secret = newWebhookSecret();
    const rotated = await this.endpoints.rotateSecret(id, secret, new Date(Date.now() + ttlSeconds * 1000));
    if (!rotated) throw notFound(id);
    return { ...toEndpointDto(rotated), secret };
  }

  async remove(id: string): Promise<void> {
    if (!(await this.endpoints.delete(id))) throw notFound(id);
  }

  private async find(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.endpoints.find(id);
    if (!endpoint) throw notFound(id);
    return endpoint;
  }

  private async checkUrl(url: string): Promise<void> {
    const problem = await webhookUrlProblem(url, this.config.webhooks.allowPrivateUrls);
    if (problem) throw new WebhooksException(WebhooksExceptionCode.INVALID_URL, problem);
  }
}

function notFound(id: string): WebhooksException {
  return new WebhooksException(WebhooksExceptionCode.ENDPOINT_NOT_FOUND, `no webhook endpoint with id ${id}`);
}
