import { LRUCache } from 'lru-cache';

/** The label value shared by everything outside the top. */
export const OTHER_LABEL_VALUE = 'other';

/**
 * Bounds the distinct values of one metric label (callers choose agent ids freely, and
 * each value is a Prometheus series): the `limit` most used values keep their own, the
 * rest are counted under `other`.
 *
 * Places go to the first values seen while some are free; once they are taken, a value
 * outside the top takes the place of a labelled one only when `rebalance()` runs (before
 * each scrape) and it has been used more than twice as often, so near-equal values do
 * not swap back and forth. A value that loses its place has its series removed, never
 * decreased, so every exported counter only goes up; its later uses count as `other`.
 */
export class TopLabelValues {
  private readonly uses: LRUCache<string, number>;
  private readonly labelled = new Set<string>();

  constructor(
    private readonly limit: number,
    /** Removes the series of a value that lost its place. */
    private readonly onDropped: (value: string) => void,
    /** How many values' use counts are remembered (the least recently used are forgotten). */
    tracked = Math.max(1_000, limit * 20),
  ) {
    this.uses = new LRUCache({ max: tracked });
  }

  /** Counts one use of `value` and says which label value to record it under. */
  use(value: string): string {
    this.uses.set(value, (this.uses.get(value) ?? 0) + 1);
    if (this.labelled.has(value)) return value;
    if (this.labelled.size < this.limit) {
      this.labelled.add(value);
      return value;
    }
    return OTHER_LABEL_VALUE;
  }

  /** Gives the places of the least used labelled values to much busier unlabelled ones. */
  rebalance(): void {
    if (this.labelled.size < this.limit) return;
    // A labelled value counts double: the margin a newcomer has to beat.
    const score = (value: string, uses: number) => (this.labelled.has(value) ? uses * 2 : uses);
    const top = new Set(
      [...this.uses.entries()]
        .sort(([a, aUses], [b, bUses]) => score(b, bUses) - score(a, aUses))
        .slice(0, this.limit)
        .map(([value]) => value),
    );
    // A labelled value forgotten by the use counter has not been used for a long while.
    for (const value of this.labelled) {
      if (top.has(value)) continue;
      this.labelled.delete(value);
      this.onDropped(value);
    }
    for (const value of top) {
      if (this.labelled.size >= this.limit) break;
      this.labelled.add(value);
    }
  }

  /** The values that currently have their own label. */
  get values(): ReadonlySet<string> {
    return this.labelled;
  }
}
