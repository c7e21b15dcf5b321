// Preloaded into a service process under test (with --expose-gc): SIGUSR2 runs a full GC, so a
// test can read heap usage without the garbage that has not been collected yet.
process.on('SIGUSR2', () => global.gc && global.gc());
