/**
 * Three tiers (README, Tests):
 * - unit: co-located `*.spec.ts` in src/ and dev/; no network, database or child process.
 * - integration: test/integration, the real app in-process against real Postgres and real sockets.
 * - system: test/system, the service as a process, a cluster, a browser, an embedded database, or under load.
 * Both database tiers share one globalSetup (Jest runs a shared path once), so `npm test` makes one database.
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.test.json' }];

const withDatabase = (displayName, root) => ({
  displayName,
  testEnvironment: 'node',
  roots: [`<rootDir>/test/${root}`],
  testMatch: ['**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': tsJest },
  // The run's own database: see test/support/test-database-server.ts.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
});

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/src', '<rootDir>/dev'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    withDatabase('integration', 'integration'),
    withDatabase('system', 'system'),
  ],
};
