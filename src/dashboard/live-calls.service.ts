import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { CallActivity, CallActivityFeed } from '../call-activity/call-activity.feed';
import { describeError } from '../common/describe-error';
import type { LiveCallDto, LiveEventDto } from './dto/live-event.dto';
import { LiveCallsState } from './live-calls-state';

/** A connected live view. `send` must not block; it returns false once the client is gone or dropped. */
export interface LiveClient {
  send(chunk: string): boolean;
  close(): void;
}

/** One SSE message. */
export function formatSse(event: LiveEventDto): string {
  const { type, ...data } = event;
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Folds the call activity feed into the calls in progress on every instance (this process's, the
 * other workers' with WORKERS, the other instances' from the bus: the snapshot a new live view starts from), and fans each change out to the live views.
 * Runs inside the call path (the feed is synchronous), so it never throws and never waits. Keeps
 * the feed told how many views are open, so reply pieces are produced only while one is.
 */
@Injectable()
export class LiveCallsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LiveCallsService.name);
  private readonly state = new LiveCallsState();
  private readonly clients = new Set<LiveClient>();
  private subscription: Subscription | undefined;

  constructor(private readonly feed: CallActivityFeed) {}

  onModuleInit(): void {
    this.subscription = this.feed.clusterActivity$.subscribe((activity) => {
      try {
        this.apply(activity);
      } catch (error) {
        this.logger.error(`live view update failed: ${describeError(error)}`);
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    // Open event streams would otherwise keep the HTTP server from closing.
    for (const client of this.clients) client.close();
    this.clients.clear();
    this.feed.setViewersHere(0);
  }

  snapshot(): LiveCallDto[] {
    return this.state.snapshot();
  }

  /** Sends the snapshot, then every change until `remove`. */
  add(client: LiveClient): void {
    if (client.send(formatSse({ type: 'snapshot', calls: this.snapshot() }))) this.clients.add(client);
    this.feed.setViewersHere(this.clients.size);
  }

  remove(client: LiveClient): void {
    this.clients.delete(client);
    this.feed.setViewersHere(this.clients.size);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  private apply(activity: CallActivity): void {
    const event = this.state.apply(activity);
    if (!event || this.clients.size === 0) return;
    const chunk = formatSse(event);
    for (const client of this.clients) {
      if (!deliver(client, chunk)) this.clients.delete(client);
    }
    this.feed.setViewersHere(this.clients.size);
  }
}

/** A client whose connection throws on write is as gone as one that refuses the chunk. */
function deliver(client: LiveClient, chunk: string): boolean {
  try {
    return client.send(chunk);
  } catch {
    return false;
  }
}
