import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { inTransaction } from '../database/sql-executor';
import { JobQueue } from '../jobs/job-queue.service';
import type { JobRun } from '../jobs/job-spec';
import { derivedUuid, WebhookDeliveryQueueRepository } from './webhook-delivery-queue.repository';
import { WebhookDelivery, WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookPayloads } from './webhook-payloads';
import { retryPlan } from './webhook-retry-plan';
import { postWebhook } from './webhook-sender';
import { webhookHeaders } from './webhook-wire';
import { WebhooksException, WebhooksExceptionCode } from './webhooks.exception';

export const WEBHOOK_DELIVERY_QUEUE = 'webhook-delivery';

export interface DeliveryJob {
  deliveryId: string;
}

/** Beyond the request timeout, what an attempt may take (its two queries) before the queue deems it lost. */
const ATTEMPT_MARGIN_SECONDS = 30;

/**
 * Sends deliveries, one job per delivery on the `webhook-delivery` queue: off the call path, on
 * the queue's own pool, WEBHOOK_CONCURRENCY at a time, each attempt bounded by WEBHOOK_TIMEOUT_MS.
 * An attempt that gets no 2xx throws, so the queue retries it with exponential backoff; after the
 * last one the delivery is `failed`.
 */
@Injectable()
export class WebhookDeliveryService implements OnModuleInit {
  constructor(
    private readonly queue: JobQueue,
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly queueRepository: WebhookDeliveryQueueRepository,
    private readonly payloads: WebhookPayloads,
    private readonly metrics: WebhookMetrics,
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    const { maxDeliveryHours, retryDelaySeconds, timeoutMs, concurrency } = this.config.webhooks;
    const plan = retryPlan(maxDeliveryHours, retryDelaySeconds);
    this.queue.register<DeliveryJob>(
      {
        name: WEBHOOK_DELIVERY_QUEUE,
        retryLimit: plan.retryLimit,
        retryDelaySeconds: plan.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: Math.ceil(timeoutMs / 1000) + ATTEMPT_MARGIN_SECONDS,
        concurrency,
      },
      (job) => this.attempt(job),
    );
  }

  /** A new job for a settled delivery: the same event id (idempotency key), a fresh round of retries. */
  async redeliver(id: string): Promise<WebhookDelivery> {
    await inTransaction(this.dataSource, async (tx) => {
      const redelivery = await this.queueRepository.reopen(id, tx);
      if (redelivery === null) {
        throw new WebhooksException(WebhooksExceptionCode.DELIVERY_NOT_FOUND, `no webhook delivery with id ${id}`);
      }
      if (redelivery === 'pending') {
        throw new WebhooksException(
          WebhooksExceptionCode.DELIVERY_PENDING,
          `delivery ${id} is still pending: it is being delivered (or retried) already`,
        );
      }
      await this.queue.send<DeliveryJob>(
        WEBHOOK_DELIVERY_QUEUE,
        { deliveryId: id },
        { id: derivedUuid(id, 'redelivery', String(redelivery)), tx },
      );
    });
    const delivery = await this.deliveries.find(id);
    if (!delivery)
      throw new WebhooksException(WebhooksExceptionCode.DELIVERY_NOT_FOUND, `no webhook delivery with id ${id}`);
    return delivery;
  }

  private async attempt(job: JobRun<DeliveryJob>): Promise<void> {
    const { deliveryId } = job.data;
    const delivery = await this.deliveries.findToSend(deliveryId);
    // Gone with its endpoint, stopped, or already delivered (a job run twice): nothing to send.
    if (!delivery || delivery.status !== 'pending') return;
    if (!delivery.enabled) return this.stop(deliveryId, 'endpoint disabled');
    const payload = await this.payloads.build(delivery);
    if (!payload) return this.stop(deliveryId, 'the call is no longer stored');
    const body = JSON.stringify(payload);
    const outcome = await postWebhook({
      url: delivery.url,
      body,
      headers: webhookHeaders(delivery.eventId, body, delivery.secrets, new Date()),
      timeoutMs: this.config.webhooks.timeoutMs,
      allowPrivate: this.config.webhooks.allowPrivateUrls,
    });
    const final = job.retryCount >= job.retryLimit;
    await this.deliveries.recordAttempt(deliveryId, outcome, final);
    this.metrics.attempted(outcome);
    if (outcome.error === null) return this.metrics.settled('delivered');
    if (final) this.metrics.settled('failed');
    // The queue retries on a throw; the message is ours (status or network error), never the receiver's body.
    throw new Error(`webhook delivery ${deliveryId}, attempt ${job.retryCount + 1}: ${outcome.error}`);
  }

  private async stop(deliveryId: string, reason: string): Promise<void> {
    await this.deliveries.markFailed(deliveryId, reason);
    this.metrics.settled('failed');
  }
}
