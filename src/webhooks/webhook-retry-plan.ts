/**
 * How long a delivery is retried, turned into pg-boss settings. pg-boss 10 (src/plans.js,
 * failJobs) puts a failed attempt back with the delay
 *   retryDelay * 2^min(16, retryCount + 1) / 2 * (1 + random())
 * where retryCount is the number of retries made before the attempt that failed: the n-th retry
 * (n = 1, 2, ...) waits between retryDelay * 2^(n-1) and retryDelay * 2^n. retryLimit is the most
 * retries whose longest possible waits add up to at most WEBHOOK_MAX_DELIVERY_HOURS, so a delivery
 * is settled (delivered or failed) within that time, and its last attempt comes after at least half of it.
 */
export interface RetryPlan {
  retryLimit: number;
  retryDelaySeconds: number;
  /** The wait before each retry, shortest and longest, in seconds. */
  waits: Array<{ min: number; max: number }>;
}

/** pg-boss stops doubling here (2^16). */
const MAX_EXPONENT = 16;
/** Far more than any sensible WEBHOOK_MAX_DELIVERY_HOURS needs; bounds the loop. */
const MAX_RETRIES = 200;

export function retryPlan(maxDeliveryHours: number, retryDelaySeconds: number): RetryPlan {
  const budget = maxDeliveryHours * 3600;
  const waits: RetryPlan['waits'] = [];
  let total = 0;
  while (waits.length < MAX_RETRIES) {
    const max = retryDelaySeconds * 2 ** Math.min(MAX_EXPONENT, waits.length + 1);
    if (total + max > budget) break;
    total += max;
    waits.push({ min: max / 2, max });
  }
  return { retryLimit: waits.length, retryDelaySeconds, waits };
}
