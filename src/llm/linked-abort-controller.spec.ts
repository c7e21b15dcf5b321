import { getEventListeners } from 'node:events';
import { LinkedAbortController } from './linked-abort-controller';

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('LinkedAbortController', () => {
  it("aborts when any parent aborts, with that parent's reason", () => {
    const call = new AbortController();
    const watchdog = new AbortController();
    const linked = new LinkedAbortController(call.signal, watchdog.signal);

    watchdog.abort('too slow');

    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe('too slow');
    expect(call.signal.aborted).toBe(false);
  });

  it('starts aborted, listening to nothing, when a parent already has', () => {
    const live = new AbortController();
    const linked = new LinkedAbortController(live.signal, AbortSignal.abort('gone'));

    expect(linked.signal.reason).toBe('gone');
    expect(listeners(live.signal)).toBe(0);
  });

  it('lets go of every parent on dispose, and no longer follows them', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = new LinkedAbortController(a.signal, b.signal);
    expect([listeners(a.signal), listeners(b.signal)]).toEqual([1, 1]);

    linked.dispose();
    linked.dispose();
    a.abort();

    expect([listeners(a.signal), listeners(b.signal)]).toEqual([0, 0]);
    expect(linked.signal.aborted).toBe(false);
  });

  it('lets go of the other parents once one has aborted it', () => {
    const a = new AbortController();
    const b = new AbortController();
    new LinkedAbortController(a.signal, b.signal);

    a.abort();

    expect(listeners(b.signal)).toBe(0);
  });

  it('aborted by hand: lets go of its parents and leaves them alone', () => {
    const parent = new AbortController();
    const linked = new LinkedAbortController(parent.signal);

    linked.abort('timeout');

    expect(listeners(parent.signal)).toBe(0);
    expect(parent.signal.aborted).toBe(false);
  });

  it('leaves a long-lived parent as it found it after many short-lived children', () => {
    const call = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const reply = new LinkedAbortController(call.signal);
      if (i % 2) reply.abort();
      reply.dispose();
    }
    expect(listeners(call.signal)).toBe(0);
  });
});
