/**
 * Timestamps for audit rows with microsecond resolution (what timestamptz keeps),
 * strictly increasing within the process, so frames that arrive in the same
 * millisecond still sort in arrival order.
 */
const originMs = Date.now();
const originPerf = performance.now();
let lastMicros = 0;

export function preciseNow(): string {
  let micros = Math.floor((originMs + (performance.now() - originPerf)) * 1000);
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`;
}
