/**
 * An AbortController that also aborts when one of its parent signals does (with the
 * parent's reason), and lets go of the parents on `dispose()` or once it has aborted.
 *
 * It stands in for `AbortSignal.any`: on Node 20 a composed signal is held in a process-wide
 * set while it has an 'abort' listener and has not aborted, and the `openai` client adds one
 * to every request's signal and never removes it: about 2 KB per reply, for good. Here a
 * parent only holds a listener, and only until the work ends: call `dispose()` in a `finally`.
 */
export class LinkedAbortController extends AbortController {
  private unlinks: Array<() => void> = [];

  constructor(...parents: AbortSignal[]) {
    super();
    const aborted = parents.find((parent) => parent.aborted);
    if (aborted) {
      this.abort(aborted.reason);
      return;
    }
    for (const parent of parents) {
      const follow = () => this.abort(parent.reason);
      parent.addEventListener('abort', follow, { once: true });
      this.unlinks.push(() => parent.removeEventListener('abort', follow));
    }
    this.signal.addEventListener('abort', () => this.dispose(), { once: true });
  }

  /** Stops following the parents; the controller can still be aborted by hand. Idempotent. */
  dispose(): void {
    const unlinks = this.unlinks;
    this.unlinks = [];
    for (const unlink of unlinks) unlink();
  }
}
