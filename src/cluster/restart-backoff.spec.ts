import { RestartBackoff, STABLE_AFTER_MS } from './restart-backoff';

describe('RestartBackoff', () => {
  it('replaces a worker that died once at once, then doubles the wait while its replacements keep dying young', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 8 }, () => backoff.delayAfterDeath(1, 500));
    expect(delays).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('starts over once a worker has run long enough to count as healthy', () => {
    const backoff = new RestartBackoff();
    backoff.delayAfterDeath(1, 100);
    backoff.delayAfterDeath(1, 100);
    expect(backoff.delayAfterDeath(1, 100)).toBe(2_000);
    expect(backoff.delayAfterDeath(1, STABLE_AFTER_MS)).toBe(0);
    expect(backoff.delayAfterDeath(1, 100)).toBe(1_000);
  });

  it('keeps each slot to itself: a crash loop in one does not delay the replacement of another', () => {
    const backoff = new RestartBackoff();
    for (let i = 0; i < 5; i++) backoff.delayAfterDeath(1, 100);
    expect(backoff.delayAfterDeath(2, 100)).toBe(0);
  });
});
