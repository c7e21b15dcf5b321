import { LRUCache } from 'lru-cache';

/** The label value shared by everything outside the top. */
export const OTHER_LABEL_VALUE = 'other';

/**
 * Bounds the distinct values of one metric label (callers choose agent ids freely, and
 * each value is a Prometheus series): the `limit` most used values keep their own, the
 * rest are counted under `other`.
 *
 * Places go to the first values seen while some are free; once they are taken, a value
 * outside the top takes the place of the least used labelled one only when `rebalance()`
 * runs (before each scrape) and it has been used more than twice as often, so near-equal
 * values do not swap back and forth. A value that loses its place has its series removed,
 * never decreased, so every exported counter only goes up; its later uses count as `other`.
 * Labelled values' counts are always kept; the others' are remembered for the most recently
 * used `tracked` values only, so a flood of one-off values costs bounded memory and cannot
 * push a busy value out.
 */
export class TopLabelValues {
  private readonly labelled = new Map<string, number>();
  private readonly candidates: LRUCache<string, number>;

  constructor(
    private readonly limit: number,
    /** Removes the series of a value that lost its place. */
    private readonly onDropped: (value: string) => void,
    tracked = Math.max(1_000, limit * 20),
  ) {
    this.candidates = new LRUCache({ max: tracked });
  }

  /** Counts one use of `value` and says which label value to record it under. */
  use(value: string): string {
    const labelledUses = this.labelled.get(value);
    if (labelledUses !== undefined) {
      this.labelled.set(value, labelledUses + 1);
      return value;
    }
    const uses = (this.candidates.get(value) ?? 0) + 1;
    if (this.labelled.size < this.limit) {
      this.candidates.delete(value);
      this.labelled.set(value, uses);
      return value;
    }
    this.candidates.set(value, uses);
    return OTHER_LABEL_VALUE;
  }

  /** Gives the places of the least used labelled values to much busier unlabelled ones. */
  rebalance(): void {
    const challengers = [...this.candidates.entries()].sort(([, a], [, b]) => b - a);
    const holders = [...this.labelled.entries()].sort(([, a], [, b]) => a - b);
    for (let i = 0; i < challengers.length && i < holders.length; i++) {
      const [challenger, challengerUses] = challengers[i];
      const [holder, holderUses] = holders[i];
      // The margin a newcomer has to beat.
      if (challengerUses <= holderUses * 2) break;
      this.labelled.delete(holder);
      this.onDropped(holder);
      this.candidates.set(holder, holderUses);
      this.candidates.delete(challenger);
      this.labelled.set(challenger, challengerUses);
    }
  }

  /** The values that currently have their own label. */
  get values(): string[] {
    return [...this.labelled.keys()];
  }
}
