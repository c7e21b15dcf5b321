import { Injectable, OnModuleInit } from '@nestjs/common';
import type { CallLifecycleEvent, CallLifecycleListener } from '../call-lifecycle/call-lifecycle-event';
import { CallLifecycle } from '../call-lifecycle/call-lifecycle.service';
import type { SqlExecutor } from '../database/sql-executor';
import { JobQueue } from '../jobs/job-queue.service';
import { WebhookDeliveryQueueRepository } from './webhook-delivery-queue.repository';
import { DeliveryJob, WEBHOOK_DELIVERY_QUEUE } from './webhook-delivery.service';

/**
 * Turns call events into deliveries, inside the dispatcher's transaction: one row per matching
 * endpoint and its job, both with `tx`, so they exist together or not at all. Only fast SQL here;
 * the sending is the job's. An event seen again (after a rollback) makes no second delivery.
 */
@Injectable()
export class WebhookFanOut implements CallLifecycleListener, OnModuleInit {
  constructor(
    private readonly lifecycle: CallLifecycle,
    private readonly queue: JobQueue,
    private readonly repository: WebhookDeliveryQueueRepository,
  ) {}

  onModuleInit(): void {
    this.lifecycle.subscribe(this);
  }

  async onCallEvents(events: CallLifecycleEvent[], tx: SqlExecutor): Promise<void> {
    const deliveryIds = await this.repository.insertForEvents(events, tx);
    for (const deliveryId of deliveryIds) {
      await this.queue.send<DeliveryJob>(WEBHOOK_DELIVERY_QUEUE, { deliveryId }, { id: deliveryId, tx });
    }
  }
}
