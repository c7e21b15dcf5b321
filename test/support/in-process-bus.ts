import { Module } from '@nestjs/common';
import type { BusChannel, BusMessages, BusSender } from '../../src/cluster-bus/bus-messages';
import { ClusterBus } from '../../src/cluster-bus/cluster-bus.service';

type Handler = (message: never, sender: BusSender) => void;

/**
 * The bus of unit tests (no Postgres): what one process publishes reaches the subscribers of
 * every InProcessBus made with the same `hub`, as other instances would hear it on Postgres.
 */
export class InProcessBus implements Pick<
  ClusterBus,
  'subscribe' | 'onConnected' | 'publish' | 'sender' | 'isConnected'
> {
  readonly sender: BusSender;
  readonly isConnected = true;
  readonly published: Array<{ channel: BusChannel; message: unknown }> = [];
  private readonly handlers = new Map<BusChannel, Handler[]>();
  private readonly connectedHandlers: Array<(again: boolean) => void> = [];

  constructor(
    origin = 'in-process',
    private readonly hub: InProcessBus[] = [],
    group = origin,
  ) {
    this.sender = { origin, group };
    hub.push(this);
  }

  subscribe<C extends BusChannel>(channel: C, handler: (message: BusMessages[C], sender: BusSender) => void): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  onConnected(handler: (again: boolean) => void): void {
    this.connectedHandlers.push(handler);
  }

  publish<C extends BusChannel>(channel: C, message: BusMessages[C]): void {
    this.published.push({ channel, message });
    for (const bus of this.hub) bus.deliver(channel, message, this.sender);
  }

  /** As after a bus outage. */
  reconnected(): void {
    this.connectedHandlers.forEach((handler) => handler(true));
  }

  private deliver(channel: BusChannel, message: unknown, sender: BusSender): void {
    for (const handler of this.handlers.get(channel) ?? []) handler(message as never, sender);
  }
}

/** Stands in for ClusterBusModule: `.overrideModule(ClusterBusModule).useModule(InProcessBusModule.with(bus))`. */
@Module({})
export class InProcessBusModule {
  static with(bus: InProcessBus = new InProcessBus()) {
    return { module: InProcessBusModule, providers: [{ provide: ClusterBus, useValue: bus }], exports: [ClusterBus] };
  }
}
