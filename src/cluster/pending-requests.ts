/**
 * Requests sent over IPC that wait for an answer carrying the same id: each is settled by its
 * answer, by `fail`, or by its timeout, whichever comes first, and only once.
 */
export class PendingRequests<T> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: T) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();

  /** A new request id and the promise its answer settles. */
  open(timeoutMs: number, what: string): { id: number; answer: Promise<T> } {
    const id = this.nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(id, new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
    });
    return { id, answer };
  }

  /** Settles request `id` with its answer; an answer that comes too late is dropped. */
  resolve(id: number, value: T): void {
    const request = this.take(id);
    request?.resolve(value);
  }

  fail(id: number, error: Error): void {
    const request = this.take(id);
    request?.reject(error);
  }

  get size(): number {
    return this.pending.size;
  }

  private take(id: number) {
    const request = this.pending.get(id);
    if (!request) return undefined;
    this.pending.delete(id);
    clearTimeout(request.timer);
    return request;
  }
}
