/** A queue and how its jobs are retried. Declared by the module whose work it is. */
export interface JobQueueSpec {
  name: string;
  /** Attempts after the first. */
  retryLimit: number;
  /** Delay before the first retry; with `retryBackoff` it doubles at each retry (pg-boss adds jitter). */
  retryDelaySeconds: number;
  retryBackoff: boolean;
  /** An attempt still running after this long is failed (and retried), e.g. when its process died. */
  expireInSeconds: number;
  /** Jobs of this queue run at once in one process (default 1). */
  concurrency?: number;
}

export interface JobRun<T> {
  id: string;
  data: T;
  /** Retries before this attempt: 0 on the first. */
  retryCount: number;
  retryLimit: number;
}

export type JobHandler = (job: JobRun<object>) => Promise<void>;
