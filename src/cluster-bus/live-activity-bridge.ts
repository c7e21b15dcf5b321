import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { CallActivity, CallActivityFeed } from '../call-activity/call-activity.feed';
import { ActiveCallsRepository } from '../call-records/active-calls.repository';
import type { EndReason } from '../call-records/call-status';
import { describeError } from '../common/describe-error';
import { MAX_TEXT_CHARS } from '../dashboard/live-calls-state';
import { BUS_CHANNELS, BusSender, LiveMessage, SyncedCall } from './bus-messages';
import { ClusterBus } from './cluster-bus.service';

/** Activity is sent at most this often: a reply's pieces within it travel as one. */
export const COALESCE_MS = 100;
/** Each process announces its calls in progress this often (and its live views, while it has some). */
export const SYNC_MS = 15_000;
/** A process not heard from for this long is forgotten: its live views, and its calls in the view. */
const SILENT_MS = 3 * SYNC_MS;
/** User text in `reply_started` is cut to this (the live view shows a turn, not a document). */
const MAX_USER_TEXT_CHARS = 2_000;
const TRUNCATED = '…';

/**
 * The live view across instances: this process's call activity goes on the bus (pieces of a
 * reply coalesced per turn every COALESCE_MS), the other instances' comes into the activity feed,
 * where the live view reads it with this instance's own. The workers of this instance already
 * see each other's calls through their primary, so messages of this instance's processes are
 * skipped. What the bus may have lost is made good: every process announces its calls in
 * progress (`sync`) when connected and every SYNC_MS, and after a listener outage the calls in
 * progress are read again from call_sessions.
 */
@Injectable()
export class LiveActivityBridge implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(LiveActivityBridge.name);
  private queue: CallActivity[] = [];
  /** The queued piece of each turn, which later pieces of that turn join. */
  private readonly queuedPieces = new Map<string, Extract<CallActivity, { type: 'reply_piece' }>>();
  private flushTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  /** This process's calls in progress. */
  private readonly ownCalls = new Map<string, SyncedCall>();
  /** Calls of other instances shown here: session id → the process (instance id) serving it. */
  private readonly remoteCalls = new Map<string, string>();
  private readonly remoteViewers = new Map<string, number>();
  /** When each other process was last heard from. */
  private readonly lastHeard = new Map<string, number>();
  private viewersHere = 0;
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly feed: CallActivityFeed,
    private readonly bus: ClusterBus,
    private readonly calls: ActiveCallsRepository,
  ) {}

  /** Calls shown here that another instance serves (for tests and logs). */
  get remoteCallCount(): number {
    return this.remoteCalls.size;
  }

  onApplicationBootstrap(): void {
    this.bus.subscribe(BUS_CHANNELS.live, (message, sender) => {
      if (sender.group !== this.bus.sender.group) this.receive(message, sender);
    });
    this.bus.onConnected((again) => {
      this.announce();
      if (again) void this.catchUp();
    });
    this.subscriptions.push(
      this.feed.activity$.subscribe((activity) => this.forward(activity)),
      this.feed.viewers$.subscribe((count) => {
        this.viewersHere = count;
        // Until the bus is connected there is no one to tell; `announce` tells them once it is.
        if (this.bus.isConnected) this.bus.publish(BUS_CHANNELS.live, { type: 'viewers', count });
      }),
    );
    this.syncTimer = setInterval(() => {
      this.announce();
      this.forgetSilent();
    }, SYNC_MS);
    this.syncTimer.unref();
  }

  /** The calls closed by the drain are announced (the bus sends what is queued before it closes). */
  beforeApplicationShutdown(): void {
    clearInterval(this.syncTimer);
    this.flush();
    this.subscriptions.forEach((subscription) => subscription.unsubscribe());
  }

  private forward(activity: CallActivity): void {
    switch (activity.type) {
      case 'frame_rejected':
      case 'peer_lost':
        return;
      case 'call_started': {
        const { sessionId, agentId, fromNumber, toNumber, at } = activity;
        this.ownCalls.set(sessionId, { sessionId, agentId, fromNumber, toNumber, at });
        // Metadata is the caller's own data, which the live view does not show.
        return this.enqueue({ ...activity, metadata: null });
      }
      case 'call_ended':
        this.ownCalls.delete(activity.sessionId);
        return this.enqueue(activity);
      case 'reply_started':
        return this.enqueue({ ...activity, userText: cut(activity.userText, MAX_USER_TEXT_CHARS) });
      case 'reply_piece': {
        const key = `${activity.streamId}:${activity.sessionId}`;
        const queued = this.queuedPieces.get(key);
        if (queued) queued.content += activity.content;
        else {
          const piece = { ...activity };
          this.queuedPieces.set(key, piece);
          this.enqueue(piece);
        }
        return;
      }
      case 'reply_finished':
        return this.enqueue({ ...activity, text: cut(activity.text, MAX_TEXT_CHARS) });
    }
  }

  private enqueue(activity: CallActivity): void {
    this.queue.push(activity);
    this.flushTimer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.queuedPieces.clear();
    if (this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    this.bus.publish(BUS_CHANNELS.live, { type: 'activity', events });
  }

  /** This process's calls and live views, for the others to set their view right. */
  private announce(): void {
    this.flush();
    this.bus.publish(BUS_CHANNELS.live, { type: 'sync', calls: [...this.ownCalls.values()] });
    this.bus.publish(BUS_CHANNELS.live, { type: 'viewers', count: this.viewersHere });
  }

  private receive(message: LiveMessage, sender: BusSender): void {
    this.lastHeard.set(sender.origin, Date.now());
    switch (message.type) {
      case 'activity':
        for (const activity of message.events) {
          if (activity.type === 'call_started') this.remoteCalls.set(activity.sessionId, sender.origin);
          else if (activity.type === 'call_ended') this.remoteCalls.delete(activity.sessionId);
          this.feed.receive(activity);
        }
        return;
      case 'sync':
        return this.reconcile(sender.origin, message.calls);
      case 'viewers':
        this.remoteViewers.set(sender.origin, message.count);
        return this.tellViewers();
    }
  }

  /** `origin`'s calls are exactly `calls`: the others shown as its calls have ended, the missing ones are shown. */
  private reconcile(origin: string, calls: SyncedCall[]): void {
    const current = new Set(calls.map((call) => call.sessionId));
    const at = new Date().toISOString();
    for (const [sessionId, owner] of this.remoteCalls) {
      if (owner === origin && !current.has(sessionId)) this.end(sessionId, 'connection_closed', at);
    }
    for (const call of calls) if (!this.remoteCalls.has(call.sessionId)) this.start(origin, call);
  }

  /** After a listener outage: the calls in progress as recorded stand in for the activity missed. */
  private async catchUp(): Promise<void> {
    try {
      const rows = await this.calls.activeOrListed([...this.remoteCalls.keys()]);
      const group = this.bus.sender.group;
      const active = new Set<string>();
      for (const row of rows) {
        const ours =
          row.instance_name !== null && (row.instance_name === group || row.instance_name.startsWith(`${group}/`));
        if (row.status !== 'active' || ours || row.instance_id === null || this.ownCalls.has(row.session_id)) continue;
        active.add(row.session_id);
        if (this.remoteCalls.has(row.session_id)) continue;
        this.start(row.instance_id, {
          sessionId: row.session_id,
          agentId: row.agent_id,
          fromNumber: row.from_number,
          toNumber: row.to_number,
          at: row.started_at.toISOString(),
        });
      }
      const at = new Date().toISOString();
      const endReasons = new Map(rows.map((row) => [row.session_id, row.end_reason]));
      for (const sessionId of this.remoteCalls.keys()) {
        if (!active.has(sessionId)) this.end(sessionId, endReasons.get(sessionId) ?? 'connection_closed', at);
      }
    } catch (error) {
      this.logger.warn(`Live view catch-up after a bus outage failed: ${describeError(error)}`);
    }
  }

  private start(origin: string, call: SyncedCall): void {
    this.remoteCalls.set(call.sessionId, origin);
    this.feed.receive({ type: 'call_started', ...call, metadata: null });
  }

  private end(sessionId: string, endReason: EndReason, at: string): void {
    this.remoteCalls.delete(sessionId);
    this.feed.receive({ type: 'call_ended', sessionId, endReason, at });
  }

  /**
   * A process unheard for SILENT_MS (it announces itself every SYNC_MS) is gone or cut off: its
   * live views are forgotten and its calls leave the view (its next `sync` brings them back).
   */
  private forgetSilent(): void {
    const cutoff = Date.now() - SILENT_MS;
    const at = new Date().toISOString();
    for (const [origin, heard] of this.lastHeard) {
      if (heard >= cutoff) continue;
      this.lastHeard.delete(origin);
      this.remoteViewers.delete(origin);
      for (const [sessionId, owner] of this.remoteCalls)
        if (owner === origin) this.end(sessionId, 'connection_closed', at);
    }
    this.tellViewers();
  }

  private tellViewers(): void {
    let present = false;
    for (const count of this.remoteViewers.values()) present ||= count > 0;
    this.feed.setViewersOnOtherInstances(present);
  }
}

function cut<T extends string | null | undefined>(text: T, max: number): T {
  return (
    typeof text === 'string' && text.length > max ? text.slice(0, max - TRUNCATED.length) + TRUNCATED : text
  ) as T;
}
