import { CircuitBreaker, CircuitState } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let changes: Array<[CircuitState, string]>;
  let breaker: CircuitBreaker;

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    changes = [];
    breaker = new CircuitBreaker(3, 10_000, (state, detail) => changes.push([state, detail]));
  });
  afterEach(() => jest.useRealTimers());

  /** One request, failed. */
  const fail = () => breaker.failed(breaker.tryAcquire()!, 'HTTP 500');

  it('lets every request through while closed, and counts only consecutive failures', () => {
    fail();
    fail();
    breaker.succeeded(breaker.tryAcquire()!);
    fail();
    fail();

    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(2);
    expect(changes).toEqual([]);
  });

  it('opens on the threshold and refuses requests for the pause, costing nothing', () => {
    fail();
    fail();
    fail();

    expect(breaker.state).toBe('open');
    expect(changes).toEqual([['open', '3 consecutive failures, the last: HTTP 500']]);
    expect(breaker.tryAcquire()).toBeUndefined();
    jest.advanceTimersByTime(9_999);
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(breaker.retryInMs).toBe(1);
  });

  it('half-opens after the pause and lets exactly one trial through; its success closes the circuit', () => {
    fail();
    fail();
    fail();
    jest.advanceTimersByTime(10_000);

    expect(breaker.state).toBe('half_open');
    const trial = breaker.tryAcquire();
    expect(trial).toEqual({ trial: true });
    expect(breaker.tryAcquire()).toBeUndefined();
    breaker.succeeded(trial!);

    expect(breaker.state).toBe('closed');
    expect(breaker.consecutiveFailures).toBe(0);
    expect(changes.map(([state]) => state)).toEqual(['open', 'half_open', 'closed']);
  });

  it('opens again for a whole pause when the trial fails', () => {
    fail();
    fail();
    fail();
    jest.advanceTimersByTime(10_000);
    breaker.failed(breaker.tryAcquire()!, 'timeout');

    expect(breaker.state).toBe('open');
    expect(breaker.retryInMs).toBe(10_000);
    expect(changes.at(-1)).toEqual(['open', 'the trial request failed: timeout']);
  });

  it('frees the trial when it ended without an answer either way (interrupted, lost a hedge)', () => {
    fail();
    fail();
    fail();
    jest.advanceTimersByTime(10_000);
    breaker.released(breaker.tryAcquire()!);

    expect(breaker.state).toBe('half_open');
    expect(breaker.tryAcquire()).toEqual({ trial: true });
  });

  it('ignores a late success of a request sent before it opened: only the trial closes it', () => {
    const early = breaker.tryAcquire()!;
    fail();
    fail();
    fail();
    breaker.succeeded(early);

    expect(breaker.state).toBe('open');
  });

  it("opens at once for a 429's retry-after, and keeps the longer of two pauses", () => {
    breaker.coolDown(20_000, 'retry-after 20 s');
    expect(breaker.state).toBe('open');
    breaker.coolDown(5_000, 'retry-after 5 s');
    expect(breaker.retryInMs).toBe(20_000);
    jest.advanceTimersByTime(20_000);
    expect(breaker.state).toBe('half_open');
  });

  it('never opens with a threshold of 0', () => {
    const off = new CircuitBreaker(0, 10_000);
    for (let i = 0; i < 50; i++) off.failed(off.tryAcquire()!, 'boom');
    off.coolDown(60_000, 'retry-after');
    expect(off.state).toBe('closed');
  });
});
