import type { CallActivity } from '../call-socket/call-activity.feed';
import type { EndReason } from '../call-records/call-status';
import { LiveCallsState } from '../dashboard/live-calls-state';
import type { PrimaryToWorker } from './messages';

/** A worker as the primary addresses it. */
export interface WorkerPort {
  /** The cluster's id of this worker process (a replacement has a new one). */
  readonly id: number;
  send(message: PrimaryToWorker): void;
}

interface Member {
  port: WorkerPort;
  viewers: number;
  /** What this worker was last told about live views in other workers. */
  viewersElsewhere: boolean;
}

/**
 * The primary's part of the live view: each worker's call activity goes to every other worker,
 * so the live view of any worker shows every call. Keeps the calls in progress (the same fold
 * as a live view), so a worker that joins later starts with them, and so the calls of a worker
 * that dies are ended for the others. Reply pieces go only to workers with a live view open, and
 * each worker is told whether a view is open in another one (only then does it produce pieces).
 */
export class ActivityRelay {
  private readonly state = new LiveCallsState();
  /** Session id → the worker serving the call. */
  private readonly owners = new Map<string, number>();
  private readonly members = new Map<number, Member>();

  /** A worker's live view is set up: it gets the calls in progress, then every change. */
  join(port: WorkerPort): void {
    this.members.set(port.id, { port, viewers: 0, viewersElsewhere: false });
    const calls = this.state.replay();
    if (calls.length > 0) port.send({ type: 'millis:activity', events: calls });
    this.tellViewers();
  }

  /** Activity of worker `from`'s calls. */
  receive(from: number, events: CallActivity[]): void {
    for (const activity of events) {
      this.state.apply(activity);
      if (activity.type === 'call_started') this.owners.set(activity.sessionId, from);
      else if (activity.type === 'call_ended') this.owners.delete(activity.sessionId);
    }
    let withoutPieces: CallActivity[] | undefined;
    for (const member of this.members.values()) {
      if (member.port.id === from) continue;
      const batch =
        member.viewers > 0 ? events : (withoutPieces ??= events.filter((activity) => activity.type !== 'reply_piece'));
      if (batch.length > 0) member.port.send({ type: 'millis:activity', events: batch });
    }
  }

  /** Worker `from` now has `count` live view clients. */
  viewers(from: number, count: number): void {
    const member = this.members.get(from);
    if (!member || member.viewers === count) return;
    member.viewers = count;
    this.tellViewers();
  }

  /** Worker `id` exited: its calls ended with it (its connections closed), as the others are told. */
  leave(id: number, endReason: EndReason): void {
    this.members.delete(id);
    const at = new Date().toISOString();
    const ended: CallActivity[] = [];
    for (const [sessionId, owner] of this.owners)
      if (owner === id) ended.push({ type: 'call_ended', sessionId, endReason, at });
    if (ended.length > 0) this.receive(id, ended);
    this.tellViewers();
  }

  /** Sessions in progress, for tests and logs. */
  get callsInProgress(): number {
    return this.owners.size;
  }

  private tellViewers(): void {
    let total = 0;
    for (const member of this.members.values()) total += member.viewers;
    for (const member of this.members.values()) {
      const present = total - member.viewers > 0;
      if (present === member.viewersElsewhere) continue;
      member.viewersElsewhere = present;
      member.port.send({ type: 'millis:viewers-elsewhere', present });
    }
  }
}
