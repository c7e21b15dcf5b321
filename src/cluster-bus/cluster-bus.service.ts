import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { describeError } from '../common/describe-error';
import { within } from '../common/within';
import { ServiceInstance } from '../instance/service-instance';
import { BUS_CHANNELS, BusChannel, BusMessages, BusSender, encodeNotifications, Reassembler } from './bus-messages';

/** Notifications waiting to be sent; past this, new ones are dropped (and counted). */
export const MAX_QUEUED_NOTIFICATIONS = 2_000;
/** Notifications sent in one statement. */
const SEND_BATCH = 200;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;
/** A quiet connection is checked this often, so a silently dead one is noticed. */
const PING_MS = 5_000;
/** At shutdown, what is queued gets this long to be sent. */
const SHUTDOWN_SEND_MS = 2_000;

type Handler<C extends BusChannel> = (message: BusMessages[C], sender: BusSender) => void;

export type DropReason = 'disconnected' | 'buffer_full' | 'too_large';

export interface BusStats {
  sent: number;
  received: number;
  refused: number;
  dropped: Record<DropReason, number>;
  reconnects: number;
  connected: boolean;
}

/**
 * Postgres as the bus between the instances (and workers) sharing one database: LISTEN/NOTIFY on
 * a connection of its own, outside the pools. Publishing never waits: a message goes into a
 * bounded queue sent in the background, and is dropped (counted) while Postgres is away. The
 * listener reconnects with backoff; subscribers are told each time it is connected again
 * (`onConnected`) so they can catch up on what they missed. The connection's application_name
 * carries this instance's id (ServiceInstance.livenessApplicationName), which the takeover rule reads.
 */
@Injectable()
export class ClusterBus implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ClusterBus.name);
  private readonly url: string;
  readonly sender: BusSender;
  private client: Client | null = null;
  private connected = false;
  private everConnected = false;
  private stopping = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private queue: Array<{ channel: BusChannel; payload: string }> = [];
  private sending: Promise<void> | null = null;
  private sequence = 0;
  private readonly reassembler = new Reassembler();
  private readonly handlers = new Map<BusChannel, Array<(message: never, sender: BusSender) => void>>();
  private readonly connectedHandlers: Array<(again: boolean) => void> = [];
  private readonly counts: Omit<BusStats, 'connected'> = {
    sent: 0,
    received: 0,
    refused: 0,
    dropped: { disconnected: 0, buffer_full: 0, too_large: 0 },
    reconnects: 0,
  };

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly instance: ServiceInstance,
  ) {
    this.url = (dataSource.options as { url: string }).url;
    this.sender = { origin: instance.id, group: instance.group };
  }

  get stats(): BusStats {
    return { ...this.counts, dropped: { ...this.counts.dropped }, connected: this.connected };
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Messages on `channel` from every process, this one's own included (a handler skips what it must). */
  subscribe<C extends BusChannel>(channel: C, handler: Handler<C>): void {
    const list = this.handlers.get(channel) ?? [];
    list.push(handler);
    this.handlers.set(channel, list);
  }

  /** Called each time the listener is connected: `again` after an outage, when notifications may have been missed. */
  onConnected(handler: (again: boolean) => void): void {
    this.connectedHandlers.push(handler);
  }

  /** Fire and forget: queued and sent in the background; dropped while Postgres is away or the queue is full. */
  publish<C extends BusChannel>(channel: C, message: BusMessages[C]): void {
    const payloads = encodeNotifications(this.sender, ++this.sequence, message);
    if (payloads === null) return this.drop('too_large', 1);
    if (!this.connected || this.stopping) return this.drop('disconnected', payloads.length);
    if (this.queue.length + payloads.length > MAX_QUEUED_NOTIFICATIONS)
      return this.drop('buffer_full', payloads.length);
    for (const payload of payloads) this.queue.push({ channel, payload });
    this.sending ??= this.send().finally(() => (this.sending = null));
  }

  onApplicationBootstrap(): void {
    // Not awaited: start-up does not wait for the bus; until it is connected, messages are dropped.
    void this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    // Calls ended by the drain are announced before the connection goes.
    if (this.sending) await within(this.sending, SHUTDOWN_SEND_MS);
    const client = this.client;
    this.client = null;
    this.connected = false;
    await client?.end().catch(() => undefined);
  }

  private drop(reason: DropReason, count: number): void {
    this.counts.dropped[reason] += count;
  }

  private async send(): Promise<void> {
    while (this.queue.length > 0 && this.connected && this.client) {
      const batch = this.queue.splice(0, SEND_BATCH);
      try {
        // One statement, in order: notifications of one transaction are delivered in the order sent.
        await this.client.query(`SELECT pg_notify(x.c, x.p) FROM unnest($1::text[], $2::text[]) AS x(c, p)`, [
          batch.map((n) => n.channel),
          batch.map((n) => n.payload),
        ]);
        this.counts.sent += batch.length;
      } catch (error) {
        this.drop('disconnected', batch.length + this.queue.length);
        this.queue = [];
        this.lost(error);
      }
    }
    if (!this.connected && this.queue.length > 0) {
      this.drop('disconnected', this.queue.length);
      this.queue = [];
    }
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const client = new Client({
      connectionString: this.url,
      application_name: this.instance.livenessApplicationName,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      query_timeout: 10_000,
    });
    client.on('error', (error) => this.lost(error, client));
    client.on('end', () => this.lost(new Error('connection ended'), client));
    client.on('notification', ({ channel, payload }) => this.received(channel, payload ?? ''));
    this.client = client;
    try {
      await client.connect();
      for (const channel of Object.values(BUS_CHANNELS)) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      this.lost(error, client);
      return;
    }
    if (this.client !== client || this.stopping) return;
    const again = this.everConnected;
    if (again) {
      this.counts.reconnects += 1;
      this.logger.log('Bus listener reconnected');
    }
    this.everConnected = true;
    this.connected = true;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.pingTimer = setInterval(() => {
      if (!this.sending) client.query('SELECT 1').catch((error: unknown) => this.lost(error, client));
    }, PING_MS);
    this.pingTimer.unref();
    for (const handler of this.connectedHandlers) {
      try {
        handler(again);
      } catch (error) {
        this.logger.error(`Bus reconnect handler failed: ${describeError(error)}`);
      }
    }
  }

  /** The connection broke (or never came up): drop it and try again, with backoff. */
  private lost(error: unknown, client: Client | null = this.client): void {
    if (client !== this.client || client === null) return;
    if (this.connected || !this.everConnected)
      this.logger.warn(`Bus listener lost Postgres (${describeError(error)}); reconnecting`);
    this.client = null;
    this.connected = false;
    clearInterval(this.pingTimer);
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.stopping) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, delay * 2);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private received(channel: string, payload: string): void {
    const result = this.reassembler.accept(payload);
    if (result === null) return;
    if ('refused' in result) {
      this.counts.refused += 1;
      this.logger.warn(`Bus message on ${channel} refused: ${result.refused} (${payload.length} chars)`);
      return;
    }
    this.counts.received += 1;
    for (const handler of this.handlers.get(channel as BusChannel) ?? []) {
      try {
        handler(result.message as never, result.sender);
      } catch (error) {
        this.logger.error(`Bus handler on ${channel} failed: ${describeError(error)}`);
      }
    }
  }
}
