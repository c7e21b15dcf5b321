import { within } from './within';

describe('within', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('is true when the work settles in time, and leaves no timer behind', async () => {
    await expect(within(Promise.resolve('done'), 1_000)).resolves.toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('is false when the time runs out first', async () => {
    const waiting = within(new Promise(() => undefined), 1_000);
    jest.advanceTimersByTime(1_000);
    await expect(waiting).resolves.toBe(false);
  });

  it('throws a rejection that comes in time', async () => {
    await expect(within(Promise.reject(new Error('refused')), 1_000)).rejects.toThrow('refused');
  });

  it('does not wait at all for no time', async () => {
    await expect(within(new Promise(() => undefined), 0)).resolves.toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
