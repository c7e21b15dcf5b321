// Preloaded into a service process under test (with --expose-gc): SIGUSR2 runs a full GC, so a
// test can read heap usage without the garbage that has not been collected yet. The line on
// stderr tells the test the collection is done (heapAfterGc waits for it).
const GC_DONE = 'gc-on-signal: full GC done';
process.on('SIGUSR2', () => {
  if (!global.gc) return;
  global.gc();
  process.stderr.write(`${GC_DONE}\n`);
});
