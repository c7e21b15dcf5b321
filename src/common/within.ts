/**
 * Waits for `work`, at most `ms`: true when it settled in time, false when the time ran out first
 * (the work goes on, unwatched). A rejection in time is thrown. The timer never outlives the wait.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
