import type { CallActivity } from '../call-activity/call-activity.feed';

/** A registry's metrics as prom-client's `getMetricsAsJSON()` gives them (plain data, sent over IPC). */
export type MetricsJson = object[];

/**
 * What the IPC channel between the primary and its workers carries. Every type starts with
 * `millis:`, so messages of other libraries on the same channel (prom-client's own) are ignored.
 */
export type WorkerToPrimary =
  /** Listening: the worker takes connections from now on. */
  | { type: 'millis:ready'; port: number }
  /** The worker's live view is set up: the primary sends it the calls in progress, then every change. */
  | { type: 'millis:live-join' }
  /** Activity of this worker's calls, in order, batched per event-loop turn. */
  | { type: 'millis:activity'; events: CallActivity[] }
  /** Live view clients connected to this worker. */
  | { type: 'millis:viewers'; count: number }
  /** A /metrics scrape reached this worker: it needs the cluster's totals. */
  | { type: 'millis:metrics-request'; id: number }
  /** This worker's own metrics, asked for by `millis:metrics-collect`. */
  | { type: 'millis:metrics-collected'; id: number; metrics?: MetricsJson; error?: string };

export type PrimaryToWorker =
  /** Activity of the other workers' calls (after `millis:live-join`, first the calls already in progress). */
  | { type: 'millis:activity'; events: CallActivity[] }
  /** Whether a live view client is connected in another worker (then reply pieces are wanted). */
  | { type: 'millis:viewers-elsewhere'; present: boolean }
  /** Send this worker's own metrics. */
  | { type: 'millis:metrics-collect'; id: number }
  /** The answer to `millis:metrics-request`: the whole cluster's metrics in Prometheus' text format. */
  | { type: 'millis:metrics-text'; id: number; text?: string; error?: string };

export function isClusterMessage<T extends { type: string }>(message: unknown): message is T {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('millis:')
  );
}
