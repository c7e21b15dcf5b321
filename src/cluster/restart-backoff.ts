/** A worker that ran at least this long before it died was healthy: its replacement starts at once. */
export const STABLE_AFTER_MS = 30_000;
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

/**
 * How long to wait before replacing a worker that died, per slot. The first death is replaced at
 * once; each further death of a worker that lived less than STABLE_AFTER_MS doubles the wait (1 s,
 * 2 s, 4 s, ... up to 30 s), so a worker that cannot start (a bad deploy, a database that refuses
 * it) does not make the primary fork in a tight loop.
 */
export class RestartBackoff {
  private readonly streaks = new Map<number, number>();

  /** Records the death of the worker in `slot` after `livedMs`; returns the delay before its replacement. */
  delayAfterDeath(slot: number, livedMs: number): number {
    const streak = livedMs >= STABLE_AFTER_MS ? 1 : (this.streaks.get(slot) ?? 0) + 1;
    this.streaks.set(slot, streak);
    return streak === 1 ? 0 : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (streak - 2));
  }
}
