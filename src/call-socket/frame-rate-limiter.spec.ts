import { FrameRateLimiter } from './frame-rate-limiter';

describe('FrameRateLimiter', () => {
  it('lets a burst through, then the sustained rate', () => {
    let now = 0;
    const limiter = new FrameRateLimiter(10, 5, () => now);
    const burst = Array.from({ length: 8 }, () => limiter.take());
    expect(burst).toEqual([true, true, true, true, true, false, false, false]);
    now += 100; // one token refilled at 10/s
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    now += 10_000; // refills to the burst, not beyond
    expect(Array.from({ length: 6 }, () => limiter.take()).filter(Boolean)).toHaveLength(5);
  });
});
