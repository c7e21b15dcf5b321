import { retryPlan } from './webhook-retry-plan';

describe('retryPlan', () => {
  it('fits the longest possible waits of every retry within the budget (the defaults: 24 h from 30 s)', () => {
    const plan = retryPlan(24, 30);
    expect(plan.retryLimit).toBe(10);
    expect(plan.waits[0]).toEqual({ min: 30, max: 60 });
    expect(plan.waits[9]).toEqual({ min: 15_360, max: 30_720 });
    const longest = plan.waits.reduce((sum, w) => sum + w.max, 0);
    const shortest = plan.waits.reduce((sum, w) => sum + w.min, 0);
    expect(longest).toBeLessThanOrEqual(24 * 3600);
    // One more retry would not fit: the last attempt is at least half the budget in.
    expect(longest + 30 * 2 ** 11).toBeGreaterThan(24 * 3600);
    expect(shortest).toBeGreaterThanOrEqual((24 * 3600) / 4);
  });

  it('doubles each wait, as pg-boss does with retryBackoff', () => {
    const { waits } = retryPlan(1, 1);
    for (let i = 1; i < waits.length; i++) expect(waits[i].min).toBe(waits[i - 1].max);
  });

  it('allows no retry when even the first does not fit, and stops doubling at 2^16 like pg-boss', () => {
    expect(retryPlan(0.001, 60).retryLimit).toBe(0);
    const long = retryPlan(720, 1);
    expect(long.waits.at(-1)!.max).toBe(2 ** 16);
    expect(long.waits.reduce((sum, w) => sum + w.max, 0)).toBeLessThanOrEqual(720 * 3600);
  });
});
