/**
 * Polls until `check` stops throwing, and returns what it returned: how a test waits for
 * something to happen (a row written behind, a metric, a process's output) instead of
 * sleeping for a time it hopes is long enough. The last failure is thrown at the deadline.
 */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
